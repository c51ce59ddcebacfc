/**
 * A bare SIP user agent over WebSocket (RFC 7118), as a browser's sip.js would reach the soft switch, for
 * tests that look at the signalling a WebRTC leg gets: it registers (digest), rings on INVITEs and records
 * them (answering a CANCEL as a phone must), and places calls with an SDP of the caller's choosing. It has
 * no media stack: what it proves is what the switch and rtpengine send a browser.
 */
import { createHash, randomBytes } from "node:crypto";
import { WebSocket } from "ws";

export interface SipMessage {
  /** "INVITE", "CANCEL"... for requests; undefined for responses. */
  method?: string;
  /** Responses: the status code. */
  status?: number;
  /** The first line. */
  start: string;
  headers: Array<[string, string]>;
  body: string;
  raw: string;
  header(name: string): string | undefined;
  all(name: string): string[];
}

function parse(raw: string): SipMessage {
  const split = raw.indexOf("\r\n\r\n");
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : "";
  const [start = "", ...lines] = head.split("\r\n");
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const compact: Record<string, string> = { v: "via", f: "from", t: "to", i: "call-id", m: "contact", l: "content-length", c: "content-type" };
  const norm = (n: string) => compact[n.toLowerCase()] ?? n.toLowerCase();
  const all = (name: string) => headers.filter(([n]) => norm(n) === norm(name)).map(([, v]) => v);
  const status = /^SIP\/2\.0 (\d{3})/.exec(start);
  return {
    method: status ? undefined : start.split(" ")[0],
    status: status ? Number(status[1]) : undefined,
    start, headers, body, raw,
    header: (name) => all(name)[0],
    all,
  };
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const token = () => randomBytes(8).toString("hex");

/** The Authorization / Proxy-Authorization value answering a Digest challenge (RFC 2617, qop auth if offered). */
function digest(challenge: string, method: string, uri: string, user: string, password: string): string {
  const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`, "i").exec(challenge)?.[1];
  const realm = param("realm") ?? "";
  const nonce = param("nonce") ?? "";
  const qop = param("qop");
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const parts = [`username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`, "algorithm=MD5"];
  if (qop && /\bauth\b/.test(qop)) {
    const cnonce = token();
    parts.push(`response="${md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`)}"`, "qop=auth", "nc=00000001", `cnonce="${cnonce}"`);
  } else {
    parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
  }
  return `Digest ${parts.join(", ")}`;
}

export interface WsCall {
  /** The INVITE's final response (200 once answered). */
  final: SipMessage;
  /** A new offer within the call (a re-INVITE: hold, resume); resolves on its final response (ACKed when 2xx). */
  reinvite(sdp: string): Promise<SipMessage>;
  /** Hangs up an answered call (BYE along the route set) and resolves on its 200. */
  hangUp(): Promise<SipMessage>;
}

export interface WsPhone {
  /** INVITEs received (each ringing branch that reached this phone). */
  invites(): SipMessage[];
  /** The `count`-th request with this method received (counting those already received). */
  waitForRequest(method: string, count?: number, timeoutMs?: number): Promise<SipMessage>;
  /** Answers a ringing INVITE (200 with this SDP and its Contact); the ACK is then among the requests received. */
  answer(invite: SipMessage, sdp: string): void;
  /** REGISTER (with digest) for `expires` seconds; resolves on the 200. */
  register(expires?: number): Promise<void>;
  /** Calls `target` (a SIP URI) with this SDP offer; resolves on the final response (ACKed when 2xx). */
  call(target: string, sdp: string, timeoutMs?: number): Promise<WsCall>;
  close(): Promise<void>;
}

export interface WsPhoneOptions {
  /** ws://host:port/ of the switch's WebSocket listener. */
  url: string;
  /** sip:user@domain this phone is (its From, its registration). */
  user: string;
  domain: string;
  password?: string;
}

export async function connectWsPhone({ url, user, domain, password = "" }: WsPhoneOptions): Promise<WsPhone> {
  const ws = new WebSocket(url, "sip");
  await new Promise<void>((resolve, reject) => { ws.once("open", () => resolve()); ws.once("error", reject); });
  const host = `${token()}.invalid`; // what sip.js puts in Via and Contact: the switch answers over the connection
  const contact = `<sip:${user}@${host};transport=ws>`;
  const aor = `sip:${user}@${domain}`;
  const received: SipMessage[] = [];
  const listeners = new Set<(m: SipMessage) => void>();
  const send = (lines: string[], body = "") => ws.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n"));

  ws.on("message", (data) => {
    const m = parse(data.toString());
    received.push(m);
    for (const l of listeners) l(m);
    if (m.method) answerRequest(m);
  });

  /** What a phone that rings and never answers says. */
  const ringing = new Map<string, { invite: SipMessage; tag: string }>();
  const reply = (req: SipMessage, status: string, toTag?: string, extra: string[] = [], body = "") => send([
    `SIP/2.0 ${status}`, ...req.all("via").map((v) => `Via: ${v}`), `From: ${req.header("from")}`,
    `To: ${req.header("to")}${toTag && !/;tag=/.test(req.header("to") ?? "") ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${req.header("call-id")}`, `CSeq: ${req.header("cseq")}`,
    // A dialog's route set: the UAS sends the Record-Route it got back, in order (RFC 3261 12.1.1)
    ...(req.method === "INVITE" && !status.startsWith("100") ? req.all("record-route").map((v) => `Record-Route: ${v}`) : []),
    ...extra,
  ], body);
  const branchOf = (m: SipMessage) => `${m.header("call-id")} ${/branch=([^;,\s]+)/.exec(m.header("via") ?? "")?.[1]}`;
  function answerRequest(req: SipMessage) {
    if (req.method === "INVITE") {
      const tag = token();
      ringing.set(branchOf(req), { invite: req, tag });
      reply(req, "180 Ringing", tag, [`Contact: ${contact}`]);
    } else if (req.method === "CANCEL") {
      reply(req, "200 OK");
      const key = branchOf(req);
      const call = ringing.get(key);
      if (call) {
        ringing.delete(key);
        reply(call.invite, "487 Request Terminated", call.tag);
      }
    } else if (req.method === "BYE" || req.method === "OPTIONS") {
      reply(req, "200 OK");
    }
    // ACK: nothing to say
  }

  /** Waits in progress, ended by close() (a call whose phone is gone gets no final response). */
  const closing = new Set<() => void>();
  const waitFor = (match: (m: SipMessage) => boolean, what: string, count = 1, timeoutMs = 10_000): Promise<SipMessage> => {
    const seen = received.filter(match);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]!);
    return new Promise((resolve, reject) => {
      let n = seen.length;
      const done = () => { listeners.delete(listener); closing.delete(closed); clearTimeout(timer); };
      const listener = (m: SipMessage) => { if (match(m) && ++n === count) { done(); resolve(m); } };
      const closed = () => { done(); reject(new Error(`ws phone ${user}: closed while waiting for ${what}`)); };
      const timer = setTimeout(() => { done(); reject(new Error(`ws phone ${user}: no ${what} #${count} within ${timeoutMs} ms; received:\n${received.map((m) => m.start).join("\n")}`)); }, timeoutMs);
      listeners.add(listener);
      closing.add(closed);
    });
  };

  /** Sends a request and resolves on its final response; a 401/407 is answered once with the password. */
  async function transaction(method: string, uri: string, headers: (auth: string[]) => string[], body = "", timeoutMs = 10_000): Promise<SipMessage> {
    let auth: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const branch = `z9hG4bK${token()}`;
      const lines = headers(auth);
      send([`${method} ${uri} SIP/2.0`, `Via: SIP/2.0/WSS ${host};branch=${branch}`, "Max-Forwards: 70", ...lines], body);
      const final = await waitFor((m) => m.status !== undefined && m.status >= 200 && (m.header("via") ?? "").includes(branch), `final response to ${method}`, 1, timeoutMs);
      if ((final.status === 401 || final.status === 407) && attempt === 0 && password) {
        const challenge = final.header(final.status === 401 ? "www-authenticate" : "proxy-authenticate") ?? "";
        if (method === "INVITE") ackFailure(final, uri, branch);
        auth = [`${final.status === 401 ? "Authorization" : "Proxy-Authorization"}: ${digest(challenge, method, uri, user, password)}`];
        continue;
      }
      return final;
    }
  }
  /** The ACK of a non-2xx final response to an INVITE (same branch, hop by hop). */
  function ackFailure(final: SipMessage, uri: string, branch: string) {
    send([`ACK ${uri} SIP/2.0`, `Via: SIP/2.0/WSS ${host};branch=${branch}`, "Max-Forwards: 70", `From: ${final.header("from")}`, `To: ${final.header("to")}`,
      `Call-ID: ${final.header("call-id")}`, `CSeq: ${(final.header("cseq") ?? "1").split(" ")[0]} ACK`]);
  }

  let cseq = 1;
  return {
    invites: () => received.filter((m) => m.method === "INVITE"),
    answer(invite, sdp) {
      const call = ringing.get(branchOf(invite));
      if (!call) throw new Error(`ws phone ${user}: that INVITE is not ringing here`);
      ringing.delete(branchOf(invite));
      reply(invite, "200 OK", call.tag, [`Contact: ${contact}`, "Content-Type: application/sdp"], sdp);
    },
    waitForRequest: (method, count = 1, timeoutMs = 10_000) => waitFor((m) => m.method === method, method, count, timeoutMs),
    async register(expires = 600) {
      const callId = token();
      const fromTag = token();
      const final = await transaction("REGISTER", `sip:${domain}`, (auth) => [
        `From: <${aor}>;tag=${fromTag}`, `To: <${aor}>`, `Call-ID: ${callId}`, `CSeq: ${cseq++} REGISTER`,
        `Contact: ${contact};expires=${expires}`, ...auth,
      ]);
      if (final.status !== 200) throw new Error(`ws phone ${user}: REGISTER got ${final.start}`);
    },
    async call(target, sdp, timeoutMs = 15_000) {
      const callId = token();
      const fromTag = token();
      const from = `<${aor}>;tag=${fromTag}`;
      const final = await transaction("INVITE", target, (auth) => [
        `From: ${from}`, `To: <${target}>`, `Call-ID: ${callId}`, `CSeq: ${cseq++} INVITE`, `Contact: ${contact}`,
        "Content-Type: application/sdp", ...auth,
      ], sdp, timeoutMs);
      const invCseq = (final.header("cseq") ?? "1").split(" ")[0] ?? "1";
      if (final.status! >= 300) {
        const branch = /branch=([^;,\s]+)/.exec(final.header("via") ?? "")?.[1] ?? "";
        ackFailure(final, target, branch);
        const unanswered = () => Promise.reject(new Error("the call was not answered"));
        return { final, reinvite: unanswered, hangUp: unanswered };
      }
      // The dialog: the remote target and the route set (Record-Route reversed, for the caller).
      const remote = /<([^>]+)>/.exec(final.header("contact") ?? "")?.[1] ?? target;
      const routes = final.all("record-route").flatMap((v) => v.split(/,(?=\s*<)/)).map((v) => v.trim()).reverse();
      const inDialog = (method: string, seq: string) => [
        `From: ${from}`, `To: ${final.header("to")}`, `Call-ID: ${callId}`, `CSeq: ${seq} ${method}`,
        ...routes.map((r) => `Route: ${r}`),
      ];
      const ack = (seq: string) => send([`ACK ${remote} SIP/2.0`, `Via: SIP/2.0/WSS ${host};branch=z9hG4bK${token()}`, "Max-Forwards: 70", ...inDialog("ACK", seq)]);
      ack(invCseq);
      return {
        final,
        async reinvite(offer) {
          const seq = String(cseq++);
          const response = await transaction("INVITE", remote, () => [...inDialog("INVITE", seq), `Contact: ${contact}`, "Content-Type: application/sdp"], offer);
          if (response.status! < 300) ack(seq);
          return response;
        },
        hangUp: () => transaction("BYE", remote, () => inDialog("BYE", String(cseq++))),
      };
    },
    async close() {
      for (const closed of [...closing]) closed();
      ws.close();
      await new Promise((r) => { if (ws.readyState === WebSocket.CLOSED) r(undefined); else ws.once("close", r); });
    },
  };
}
