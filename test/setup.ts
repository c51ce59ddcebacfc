/**
 * Runs in each test file's context before it loads (jest setupFiles). On
 * Node 20, Jest's vm context lacks Symbol.dispose/asyncDispose (Node adds them
 * to its main context only); playwright-core then fails with "Object not
 * disposable" when it clicks inside a cross-site iframe (the widget on another
 * site). Defining both the way its bundler's helper falls back makes them agree.
 */
const S = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
S.dispose ??= Symbol.for("Symbol.dispose");
S.asyncDispose ??= Symbol.for("Symbol.asyncDispose");

/**
 * Every admin API response any test receives is checked against the OpenAPI document (issue 12): fetch is
 * wrapped so that a response to one of the document's paths on loopback that it does not describe (method,
 * status, content type, JSON body) fails the test at that request, with Ajv's reasons. Paths no API has
 * (probed on purpose) and HEAD requests (no body) are left to the test.
 */
const { checkResponse, describedPath } = await import("./helpers/openapi.js");
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const res = await realFetch(input, init);
  const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  if (url.hostname === "127.0.0.1" && url.pathname.startsWith("/api/") && describedPath(url.pathname) && method !== "HEAD") {
    const type = res.headers.get("content-type");
    const text = await res.clone().text();
    checkResponse(method, url.pathname, res.status, type, type?.startsWith("application/json") ? JSON.parse(text) : text);
  }
  return res;
};
export {};
