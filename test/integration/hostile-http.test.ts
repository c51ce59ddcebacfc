/**
 * Issue 9 item 4, hostile input over HTTP: the admin API without or with a wrong token, unknown
 * paths, path traversal, malformed percent-encoding, bad methods, huge URLs and headers, source maps.
 * Requests go over a raw socket, so the path reaches the server exactly as written (fetch would
 * normalize "/../"). Each case asserts the exact status and JSON error code, that nothing in the
 * response repeats the input, `X-Content-Type-Options: nosniff` on every response and no CORS header
 * on /api. After every case the component is still connected and a normal customer is still served.
 */
import { connect } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { hostileSuite, noteLatency } from "../helpers/hostile.js";

const h = hostileSuite();

interface RawResponse { status: number; headers: Record<string, string>; body: string; json: any; ms: number }

/** One HTTP/1.1 request written byte for byte; the response read until the server closes. */
async function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const t0 = Date.now();
  const socket = connect(h.r().app.webPort, "127.0.0.1");
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  await new Promise<void>((resolve, reject) => { socket.on("close", () => resolve()); socket.on("error", reject); });
  const text = Buffer.concat(chunks).toString("utf8");
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...headerLines] = (head ?? "").split("\r\n");
  const parsed: Record<string, string> = {};
  for (const l of headerLines) { const i = l.indexOf(":"); parsed[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
  let body = rest.join("\r\n\r\n");
  if (parsed["transfer-encoding"] === "chunked") body = dechunk(body);
  let json: any;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: Number(statusLine?.split(" ")[1]), headers: parsed, body, json, ms: Date.now() - t0 };
}

function dechunk(s: string): string {
  let out = "";
  for (let i = 0; i < s.length;) {
    const eol = s.indexOf("\r\n", i);
    const size = parseInt(s.slice(i, eol), 16);
    if (!size) break;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}

const auth = () => ({ Authorization: `Bearer ${h.r().config.admin.token}` });
/** A marker put in every hostile input: a response must never contain it (nor its decoded forms). */
const MARK = "zq7xmark";

/** The JSON error of the expected status and code, with the common headers, echoing nothing. */
function expectJsonError(res: RawResponse, status: number, code: string, sent: string[] = [MARK]) {
  expect({ status: res.status, code: res.json?.error?.code }).toEqual({ status, code });
  expect(typeof res.json.error.message).toBe("string");
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.headers["x-content-type-options"]).toBe("nosniff");
  noteLatency(res.ms);
  const everything = (res.body + JSON.stringify(res.headers)).toLowerCase();
  for (const piece of sent) expect(everything.includes(piece.toLowerCase())).toBe(false);
  // nothing from the server's files either
  expect(res.body).not.toMatch(/root:|"name":\s*"switchboard"|component_secret|test-admin-token/);
}

describe("the admin API without the right token: 401 not-authorized", () => {
  const ROUTES = ["/api/agents", "/api/queues", "/api/sessions", "/api/messages", `/api/sessions/s${MARK}`, `/api/${MARK}`];
  const AUTHS: Array<[string, () => Record<string, string>, string?]> = [
    ["no Authorization header", () => ({})],
    ["a wrong token", () => ({ Authorization: `Bearer wrong-${MARK}` })],
    ["an empty Bearer", () => ({ Authorization: "Bearer " })],
    ["the token as Basic", () => ({ Authorization: `Basic ${Buffer.from(`admin:${h.r().config.admin.token}`).toString("base64")}` })],
    ["the token with one more character", () => ({ Authorization: `Bearer ${h.r().config.admin.token}x` })],
    ["the token without its last character", () => ({ Authorization: `Bearer ${h.r().config.admin.token.slice(0, -1)}` })],
    ["a 10 KB token", () => ({ Authorization: `Bearer ${MARK}${"t".repeat(10_000)}` })],
    ["another scheme", () => ({ Authorization: `Token ${h.r().config.admin.token}` })],
    ["the token in the query string", () => ({}), "?token=test-admin-token&access_token=test-admin-token"],
  ];
  const rows = ROUTES.flatMap((route) => AUTHS.map(([what, headers, query]) => [`GET ${route.replace(MARK, "<marked>")} with ${what}`, route + (query ?? ""), headers] as const));
  it.each(rows)("%s", async (_name, path, headers) => {
    const res = await raw("GET", path, headers());
    expectJsonError(res, 401, "not-authorized");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("unknown paths: 404 not-found, the path never repeated", () => {
  const rows: Array<[string, boolean]> = [
    [`/${MARK}`, false],
    [`/api-${MARK}`, false],
    [`/%3Cscript%3E${MARK}%3C/script%3E`, false],
    [`/.env?${MARK}`, false],
    [`/admin/${MARK}`, false],
    [`/healthz/${MARK}`, false],
    [`/web-config.json/${MARK}`, false],
    [`/chat/${MARK}`, false],
    [`/agent/${MARK}.js`, false],
    [`/api/${MARK}`, true],
    [`/api/agents/${MARK}`, true],
    [`/api/sessions/s${MARK}`, true],
    [`/api/sessions/s${MARK}/feedback`, true],
    [`/api/sessions/${MARK}${"x".repeat(10_000)}`, true],
  ];
  it.each(rows.map(([path, withToken]) => [path.length > 60 ? `${path.slice(0, 40)}... (${path.length.toLocaleString("en")} characters)` : path, withToken, path] as const))(
    "GET %s (with the token: %s)", async (_name, withToken, path) => {
      // an unknown session is the API's own 404 (unknown-session), anything else not-found
      expectJsonError(await raw("GET", path, withToken ? auth() : {}), 404, path.startsWith("/api/sessions/") && !path.endsWith("/feedback") ? "unknown-session" : "not-found");
    });
});

describe("path traversal: 404, no file outside the web root", () => {
  const PATHS = [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E/%2E%2E/etc/passwd", "/chat/../../package.json", "/chat/%2e%2e/%2e%2e/package.json",
    "/..%2f..%2fpackage.json", "/chat/..%2f..%2fpackage.json", "/chat/%2e%2e%2f%2e%2e%2fpackage.json", "/chat/..%5c..%5cpackage.json",
    "/chat/%252e%252e/%252e%252e/package.json", "/chat/....//....//package.json", "/chat/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json",
    "/widget.js/../../package.json", "/agent/..;/..;/package.json", "/chat/%2e%2e/%2e%2e/config/demo.yaml",
  ];
  it.each(PATHS)("GET %s", async (path) => {
    expectJsonError(await raw("GET", `${path}?${MARK}`, {}), 404, "not-found", [MARK, path]);
  });
  it.each(["/api/../../package.json", "/api/%2e%2e/%2e%2e/package.json"])("GET %s with the token", async (path) => {
    expectJsonError(await raw("GET", path, auth()), 404, "not-found", [path]);
  });
});

describe("malformed percent-encoding: 404, or 400 where a route must decode it, nothing echoed", () => {
  const rows: Array<[string, boolean]> = [
    [`/%${MARK}`, false], [`/%zz${MARK}`, false], [`/chat/%E0%A4%A${MARK}`, false], [`/chat/%${MARK}.js`, false],
    [`/api/sessions/%zz${MARK}`, true], [`/api/sessions/%E0%A4%A${MARK}`, true], [`/api/sessions/%c0%80${MARK}`, true], [`/api/sessions/%${MARK}`, true],
    [`/api/%zz${MARK}`, true], [`/api/agents%zz${MARK}`, true],
  ];
  it.each(rows)("GET %s (with the token: %s)", async (path, withToken) => {
    const res = await raw("GET", path, withToken ? auth() : {});
    // A session id that cannot be decoded is a malformed request (express refuses to decode the parameter).
    if (path.startsWith("/api/sessions/")) expectJsonError(res, 400, "bad-request");
    else expectJsonError(res, 404, "not-found");
  });
});

describe("methods the server does not serve: 404", () => {
  const rows: Array<[string, string, boolean]> = [
    ["POST", "/api/agents", true], ["PUT", "/api/agents", true], ["DELETE", "/api/sessions", true], ["PATCH", "/api/queues", true],
    ["POST", "/api/sessions/s1", true], ["TRACE", "/", false], ["POST", "/", false],
    ["POST", "/web-config.json", false], ["DELETE", "/widget.js", false], ["PUT", "/chat/", false], ["POST", "/healthz", false],
  ];
  it.each(rows)("%s %s", async (method, path, withToken) => {
    const res = await raw(method, `${path}${path.includes("?") ? "&" : "?"}${MARK}`, withToken ? auth() : {});
    expectJsonError(res, 404, "not-found");
    if (path.startsWith("/api")) expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
  it.each(["DELETE", "POST", "PUT"])("%s /api/agents without the token: 401 (the token is checked first)", async (method) => {
    expectJsonError(await raw(method, `/api/agents?${MARK}`), 401, "not-authorized");
  });
});

it("OPTIONS /api/agents (a CORS preflight from another origin): no CORS headers, so browsers refuse", async () => {
  const res = await raw("OPTIONS", "/api/agents", { ...auth(), Origin: "http://evil.example", "Access-Control-Request-Method": "GET" });
  expect(res.status).toBe(200); // Express answers OPTIONS itself, with the methods the route has
  expect(res.headers.allow).toBe("GET, HEAD");
  expect(res.headers["x-content-type-options"]).toBe("nosniff");
  expect(Object.keys(res.headers).filter((k) => k.startsWith("access-control-"))).toEqual([]);
});

describe("huge URLs and headers", () => {
  it("a 10 KB path: 404, not repeated", async () => {
    expectJsonError(await raw("GET", `/${MARK}${"p".repeat(10_000)}`), 404, "not-found");
  });
  it("a 10 KB path under /api with the token: 404, not repeated", async () => {
    expectJsonError(await raw("GET", `/api/${MARK}${"p".repeat(10_000)}`, auth()), 404, "not-found");
  });
  it("a 10 KB header on an unknown path: 404, not repeated", async () => {
    expectJsonError(await raw("GET", `/nothing-${MARK}`, { "X-Junk": `${MARK}${"j".repeat(10_000)}` }), 404, "not-found");
  });
  it("a 10 KB header on /api/agents with the token: served", async () => {
    const res = await raw("GET", "/api/agents", { ...auth(), "X-Junk": "j".repeat(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });
  it("headers over Node's 16 KB limit: 431 from Node, nothing repeated, the server still answers", async () => {
    const res = await raw("GET", "/healthz", { "X-Junk": `${MARK}${"j".repeat(20_000)}` });
    expect(res.status).toBe(431);
    expect(res.body.includes(MARK)).toBe(false);
    expect((await raw("GET", "/healthz")).status).toBe(200);
  });
  it("a 50 KB query string on /healthz: 431 from Node (the request line counts toward its limit), nothing repeated", async () => {
    const res = await raw("GET", `/healthz?${MARK}=${"q".repeat(50_000)}`);
    expect(res.status).toBe(431);
    expect(res.body.includes(MARK)).toBe(false);
  });
});

describe("headers on every response", () => {
  const rows: Array<[string, boolean, number, "*" | undefined]> = [
    ["/", false, 200, undefined],
    ["/healthz", false, 200, undefined],
    ["/web-config.json", false, 200, "*"],
    ["/widget.js", false, 200, "*"],
    ["/api/agents", true, 200, undefined],
    ["/api/queues", true, 200, undefined],
    ["/api/sessions", true, 200, undefined],
    ["/api/messages", true, 200, undefined],
    ["/api/agents", false, 401, undefined],
    ["/api/sessions/snope", true, 404, undefined],
    ["/nosuch", false, 404, undefined],
  ];
  it.each(rows)("GET %s (with the token: %s): %i, nosniff, CORS %s", async (path, withToken, status, cors) => {
    const res = await raw("GET", path, withToken ? auth() : {});
    expect(res.status).toBe(status);
    noteLatency(res.ms);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    if (path.startsWith("/api")) expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    else if (cors) expect(res.headers["access-control-allow-origin"]).toBe(cors);
  });
});

describe("source maps are not served", () => {
  it.each(["/widget.js.map", "/chat/app.js.map", "/agent/app.js.map", "/web-config.json.map"])("GET %s: 404", async (path) => {
    expectJsonError(await raw("GET", path), 404, "not-found");
  });
});
