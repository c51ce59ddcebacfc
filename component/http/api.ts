/**
 * The web server: health for orchestration and an admin API over the CTI (reads here and in
 * history-api.ts; actions on live work in supervise-api.ts). Errors are JSON {error: {code, message}} with
 * the status from the one error table.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Cti } from "../../cti/cti.js";
import { CtiError, ERRORS, refuse } from "../../cti/errors.js";
import type { History } from "../../records/db.js";
import type { Logger } from "pino";
import { historyRoutes } from "./history-api.js";
import { superviseRoutes } from "./supervise-api.js";
import { iso, sessionJson } from "./views.js";
import { openApiDocument } from "./openapi.js";
import { allows, guarded, identify, scopeFor, tokenTable, type Scope } from "./scopes.js";

export interface HttpDeps {
  cti: Cti;
  /** The front page's HTML. */
  home: string;
  /** What browser clients need to connect (GET /web-config.json). */
  webConfig: unknown;
  /** The bundled browser code (dist/web). */
  webDir: string;
  /** config.admin: the full-power token and the scoped ones (sha256). */
  admin: { token: string; tokens?: ReadonlyArray<{ name: string; sha256: string; scopes: readonly Scope[] }> };
  health: () => Promise<{ xmpp: boolean; redis: boolean; softswitch?: boolean }>;
  /** GET /metrics, in Prometheus's text format (component/metrics.ts). */
  metrics?: { contentType: string; text: () => Promise<string> };
  log: Logger;
  /** The durable history (records/): statistics, recorded sessions, transcripts; opened on first use. */
  history: () => Promise<History>;
  /** config.timezone: a supervisor's change to an agent lasts until midnight there. */
  timezone: string;
  /** Each queue's service-level threshold in seconds (default 20). */
  serviceLevelSeconds?: Record<string, number>;
}

export function createHttpApp({ cti, home, webConfig, webDir, admin, health, metrics, log, history, timezone, serviceLevelSeconds }: HttpDeps) {
  const app = express();
  app.disable("x-powered-by");

  // No response may be read as another type than it says (a JSON error as HTML, say).
  app.use((_req, res, next) => { res.set("X-Content-Type-Options", "nosniff"); next(); });
  app.get("/", (_req, res) => { res.type("html").send(home); });
  // The widget and its configuration are fetched by pages on other origins; the API is not.
  const anyOrigin = (res: Response) => res.set("Access-Control-Allow-Origin", "*");
  app.get("/web-config.json", (_req, res) => { anyOrigin(res).json(webConfig); });
  app.use(express.static(webDir, { index: "index.html", redirect: true, setHeaders: anyOrigin }));

  app.get("/healthz", async (_req, res) => {
    const h = await health();
    res.status(h.xmpp && h.redis ? 200 : 503).json({ status: h.xmpp && h.redis ? "ok" : "unavailable", ...h });
  });

  // The API's description is public (it holds no data): clients and tests read it without the token.
  app.get("/api/openapi.json", (_req, res) => { res.json(openApiDocument); });

  // One guard for the API and the metrics: a known token (401 otherwise), holding the scope the route needs
  // in the one table (scopes.ts ROUTE_SCOPES; 403 otherwise).
  const tokens = tokenTable(admin);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!guarded(req.path)) return next();
    const needed = scopeFor(req.method, req.path);
    if (needed === "public") return next();
    const secret = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1];
    const token = secret ? identify(tokens, secret) : undefined;
    if (!token) return next(new CtiError("not-authorized", "Send the admin token as 'Authorization: Bearer <token>'."));
    if (!allows(token.scopes, needed)) return next(new CtiError("forbidden", `This token lacks the scope this route needs (${needed}).`));
    res.locals.actor = `token:${token.name}`;
    next();
  });
  if (metrics) app.get("/metrics", async (_req, res) => { res.type(metrics.contentType).send(await metrics.text()); });

  const api = express.Router();
  api.get("/agents", async (_req, res) => { res.json(await cti.agents()); });
  api.get("/queues", async (_req, res) => { res.json(await cti.queueStats()); });
  const { searchSessions } = historyRoutes(api, { cti, history, serviceLevelSeconds, log });
  // Without parameters, the live and recently ended sessions (Redis) as before; with any, a history search.
  api.get("/sessions", async (req, res) => {
    if (Object.keys(req.query).length > 0) return searchSessions(req, res);
    res.json((await cti.sessions(100)).map(sessionJson));
  });
  api.get("/messages", async (_req, res) => { res.json((await cti.messages(200)).map((m) => ({ ...m, at: iso(m.at) }))); });
  api.get("/sessions/:id", async (req, res) => {
    const s = await cti.session(String(req.params.id));
    if (!s) throw refuse.unknownSession();
    res.json(sessionJson(s));
  });
  superviseRoutes(api, { cti, timezone, log });
  app.use("/api", api);

  // Errors never repeat the request: what a client sent could be anything.
  app.use((_req, _res, next) => next(new CtiError("not-found", "There is nothing at this address.")));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof CtiError) {
      const status = ERRORS[err.code].http;
      if (status === 401) res.set("WWW-Authenticate", 'Bearer realm="switchboard"');
      return res.status(status).json({ error: { code: err.code, message: err.text } });
    }
    const status = (err as { status?: number }).status;
    // Express's own refusals (a malformed path encoding, a body too large) carry texts that quote the request.
    if (status && status >= 400 && status < 500) return res.status(status).json({ error: { code: "bad-request", message: "The request is malformed." } });
    log.error({ err }, "http handler failed");
    res.status(500).json({ error: { code: "internal", message: "Something went wrong on our side." } });
  });
  return app;
}
