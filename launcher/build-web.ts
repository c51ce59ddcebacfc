/**
 * Bundles the browser code (web-access/) with esbuild into dist/web/, which
 * the web server serves: dist/web/chat/ (page + app.js), dist/web/agent/, dist/web/admin/ (the supervisor console),
 * dist/web/widget.js. Static files (.html, .css, .svg) beside an entry are copied.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "web-access");
const OUT = join(ROOT, "dist/web");

/** xmpp.js reaches for node:dns (SRV lookups) even in browsers, where the WebSocket URL is given: stub it. */
const noNodeBuiltins: Plugin = {
  name: "no-node-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: "node-stub" }));
    b.onLoad({ filter: /.*/, namespace: "node-stub" }, () => ({ contents: "export default {};" }));
  },
};

/** Page folders: web-access/<name>/main.ts -> dist/web/<name>/app.js; the widget is a single script. */
const pages = ["chat", "agent", "admin"];
rmSync(OUT, { recursive: true, force: true }); // no stale bundle or source map survives a build
const entries: Record<string, string> = {};
for (const page of pages) {
  const main = join(SRC, page, "main.ts");
  if (!existsSync(main)) continue; // not written yet
  entries[`${page}/app`] = main;
  mkdirSync(join(OUT, page), { recursive: true });
  for (const f of readdirSync(join(SRC, page))) {
    if (/\.(html|css|svg)$/.test(f)) cpSync(join(SRC, page, f), join(OUT, page, f));
  }
}
if (existsSync(join(SRC, "widget/main.ts"))) entries.widget = join(SRC, "widget/main.ts");

if (Object.keys(entries).length > 0) {
  await build({
    entryPoints: entries, outdir: OUT, bundle: true, platform: "browser", format: "iife", target: "es2022", // iife: the widget loads as a classic <script> on any site
    // Source maps would publish the source next to the bundle: only when asked for, while developing.
    minify: true, sourcemap: process.env.SWITCHBOARD_SOURCEMAPS === "1", plugins: [noNodeBuiltins], logLevel: "warning",
  });
}
console.log(`build-web: ${Object.keys(entries).join(", ") || "nothing to bundle yet"}`);
