// Jest runs the compiled ESM in dist/ (tsc builds tests too), so no transform is needed.
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  transform: {},
  setupFiles: ["<rootDir>/dist/test/setup.js"],
  testTimeout: 30000,
  // Integration suites start their own Prosody and Redis: two cores, so two workers.
  maxWorkers: 2,
};
