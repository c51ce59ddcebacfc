import { describe, expect, it } from "@jest/globals";
import { prosodyEnv } from "../../launcher/prosody.js";

describe("Prosody's environment", () => {
  it("preloads jemalloc ahead of any library already preloaded, and changes nothing without it", () => {
    const lib = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    expect(prosodyEnv({ PATH: "/usr/bin" }, lib)).toEqual({ PATH: "/usr/bin", LD_PRELOAD: lib });
    expect(prosodyEnv({ LD_PRELOAD: "/opt/x.so" }, lib).LD_PRELOAD).toBe(`${lib} /opt/x.so`);
    const env = { PATH: "/usr/bin" };
    expect(prosodyEnv(env, null)).toBe(env);
  });
});
