/**
 * Get launchBrowser through loadPlaywright() in tests that click inside
 * cross-site iframes. Jest runs tests in a vm
 * context whose Symbol lacks `dispose`/`asyncDispose` on Node 20 (Node adds
 * them to its main context only). playwright-core then defines its
 * disposables under a key "undefined" but looks them up under
 * Symbol.for("Symbol.dispose"), and fails with "Object not disposable" when
 * it needs the position of an out-of-process (cross-site) iframe, e.g.
 * clicking inside the widget's chat on another site. Defining both symbols
 * the way esbuild's helper falls back to makes the two agree.
 */
const S = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
S.dispose ??= Symbol.for("Symbol.dispose");
S.asyncDispose ??= Symbol.for("Symbol.asyncDispose");
/**
 * test/helpers/browser.ts (and so playwright-core) loaded after the symbols
 * exist. A static import would not do: Jest loads CommonJS dependencies of
 * an ES module while linking, before any module body runs.
 */
export function loadPlaywright(): Promise<typeof import("../helpers/browser.js")> {
  return import("../helpers/browser.js");
}
