/**
 * The agents and the customers: real XMPP clients on Prosody. Agents accept every chat, serve it a little
 * and end it; customers arrive all along, join the queue, some depart, and are let go after a terminal
 * notice. What each was told is kept in small records for the checker (checker.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { client, xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { startEntity } from "../component/xmpp/start-entity.js";
import { NS } from "../protocol/names.js";
import { CC, type ChaosConfig } from "./config.js";

export const rand = (a: number, b: number) => a + Math.random() * (b - a);

/**
 * A compact record per acknowledged customer: the XMPP client is dropped as soon as it is closed, so a
 * 1,000-cycle run keeps only a few hundred live clients and these small records.
 */
export interface Tracked {
  n: number;
  client?: Client;
  jid: string;
  /** Seats the customer was told (more than one is a duplicate). */
  seats: string[];
  sessionId?: string;
  endedNotice: boolean;
  departNotice: boolean;
  dropped: boolean;
  closedByUs: boolean;
  /** When the client was let go (closed by us or dropped by a fault). */
  releasedAt?: number;
}

/** What the customers and the agents were told. The checker's fold drops what it has classified. */
export interface Records {
  /** The customers whose join was acknowledged. */
  customers: Tracked[];
  /** Session -> the seat that got its beginning message. */
  begins: Map<string, string>;
  /** Session -> seats, when more than one got its beginning message. */
  beginConflicts: Map<string, Set<string>>;
}

export interface Population {
  records: Records;
  /** The agents' clients, in the order of the configured agents. */
  agents: Client[];
  startAgents(): Promise<void>;
  /** One customer joins (and departs soon, if `leave`); undefined when the join was not acknowledged. */
  customer(leave: boolean): Promise<Tracked | undefined>;
  /** Background arrivals, 30% of them departing, until stopped. */
  arrivals(perSecond: number): { stop(): Promise<void> };
  /** Resolves once every customer still connected has had a terminal notice, or at `deadline`. */
  untilAllTold(deadline: number): Promise<void>;
  /** Agents stop trying to end their chats (the run is over). */
  stopServing(): void;
  stopClients(): Promise<void>;
}

async function connect(port: number, domain: string, username?: string, password?: string, reconnect = false): Promise<Client> {
  const c = client({
    service: `xmpp://127.0.0.1:${port}`, domain,
    ...(username ? { credentials: (auth, mechs) => auth({ username, password }, mechs.includes("PLAIN") ? "PLAIN" : mechs[0]!) } : {}),
  });
  if (!reconnect) c.reconnect.stop();
  c.on("error", () => {}); // a lost connection is an event: "disconnect"/"offline" below
  try {
    await startEntity(c);
  } catch (err) {
    c.reconnect.stop();
    (c as unknown as { socket?: { destroy(): void } | null }).socket?.destroy();
    c.stop().catch(() => {});
    throw err;
  }
  return c;
}

const pendingIqs = new WeakMap<Client, Map<string, (s: Element | null) => void>>();
/** An iq set; resolves with the reply, or null after `ms` or when it could not be sent. */
function iq(c: Client, to: string, child: Element, ms = 5000): Promise<Element | null> {
  const id = `i${Math.random().toString(36).slice(2)}`;
  let waiting = pendingIqs.get(c);
  if (!waiting) {
    const map = new Map<string, (s: Element | null) => void>();
    pendingIqs.set(c, (waiting = map));
    c.on("stanza", (s: Element) => { if (s.is("iq")) map.get(String(s.attrs.id))?.(s); });
  }
  const map = waiting;
  return new Promise((resolve) => {
    const done = (s: Element | null) => { clearTimeout(timer); map.delete(id); resolve(s); };
    const timer = setTimeout(() => done(null), ms);
    map.set(id, done);
    c.send(xml("iq", { type: "set", to, id }, child)).catch(() => done(null));
  });
}

export function population({ config, ports, agents: agentsCfg, background }: Pick<ChaosConfig, "config" | "ports" | "agents"> & {
  background: (p: Promise<unknown>, what: string) => void;
}): Population {
  const records: Records = { customers: [], begins: new Map(), beginConflicts: new Map() };
  const { begins, beginConflicts } = records; // customers: read from records each time (the fold rewrites the list)
  const agents: Client[] = [];
  let stopping = false;
  let customerN = 0;

  const startAgent = async (a: (typeof agentsCfg)[number], index: number) => {
    const c = await connect(ports.c2s, config.domain, a.jid.split("@")[0]!, a.password, true);
    const serving = new Set<string>(); // sessions this agent is serving (their end loops run)
    const endedSessions = new Set<string>(); // of those, the ones the CTI has ended meanwhile
    c.on("online", () => { c.send(xml("presence")).catch(() => {}); });
    c.on("stanza", (s: Element) => {
      if (s.is("message")) {
        const ended = s.getChild("ended", NS.SB);
        if (ended && serving.has(String(ended.attrs.session))) endedSessions.add(String(ended.attrs.session));
        const begin = s.getChild("begin", NS.SB);
        if (!begin) return;
        const id = begin.attrs.session as string;
        const first = begins.get(id);
        if (first === undefined) begins.set(id, a.jid);
        else if (first !== a.jid) beginConflicts.set(id, new Set([...(beginConflicts.get(id) ?? [first]), a.jid]));
        if (serving.has(id)) return; // a repeated begin (re-grant, at-least-once outbox): already serving
        serving.add(id);
        // Accept: serve a little, then end the chat (retrying through faults).
        background((async () => {
          await sleep(rand(800, 2500)); // slower than arrivals at times: a queue builds
          try {
            for (let i = 0; i < 30 && !endedSessions.has(id) && !stopping; i++) {
              const reply = c.status === "online" ? await iq(c, CC, xml("end", { xmlns: NS.SB, session: id }), 3000) : null;
              if (reply?.attrs.type === "result") return;
              const cond = reply?.getChild("error")?.getChildElements()[0]?.name;
              if (cond === "item-not-found" || cond === "forbidden") return; // already ended / no longer ours
              await sleep(1000);
            }
          } finally {
            serving.delete(id);
            endedSessions.delete(id);
          }
        })(), `${a.jid} ending session ${id}`);
      }
    });
    await c.send(xml("presence"));
    agents[index] = c;
  };

  const customer = async (leave: boolean): Promise<Tracked | undefined> => {
    let c: Client;
    try { c = await connect(ports.c2s, config.guestDomain); } catch { return undefined; }
    const t: Tracked = { n: ++customerN, client: c, jid: c.jid!.toString(), seats: [], endedNotice: false, departNotice: false, dropped: false, closedByUs: false };
    /** Lets the client go (closing it if still connected): only the record stays. */
    const release = () => {
      if (!t.client) return;
      t.client = undefined;
      t.releasedAt = Date.now();
      c.stop().catch(() => {});
    };
    const close = () => { t.closedByUs = true; release(); };
    const gone = () => { if (!t.closedByUs) { t.dropped = true; release(); } };
    c.on("offline", gone);
    c.on("disconnect", gone);
    c.on("stanza", (s: Element) => {
      if (!s.is("message")) return;
      const assigned = s.getChild("assigned", NS.SB);
      if (assigned) {
        const seat = String(assigned.attrs.seat);
        if (!t.seats.includes(seat)) t.seats.push(seat);
        t.sessionId = assigned.attrs.session;
        c.send(xml("message", { to: assigned.attrs.seat, type: "chat" }, xml("body", {}, "hello"))).catch(() => {});
      }
      if (s.getChild("ended", NS.SB)) { t.endedNotice = true; setTimeout(close, 200); }
      if (s.getChild("depart-queue", NS.WG)) { t.departNotice = true; setTimeout(close, 200); }
    });
    const reply = await iq(c, `billing@${CC}`, xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications")), 5000);
    if (reply?.attrs.type !== "result") { close(); return undefined; }
    records.customers.push(t);
    if (leave) {
      setTimeout(() => {
        if (t.seats.length || t.closedByUs || t.dropped) return;
        void iq(c, `billing@${CC}`, xml("depart-queue", { xmlns: NS.WG }), 3000);
      }, rand(100, 2500));
    }
    return t;
  };

  return {
    records, agents, customer,
    startAgents: async () => { await Promise.all(agentsCfg.map(startAgent)); },
    arrivals(perSecond) {
      let arriving = true;
      const loop = (async () => {
        while (arriving) {
          background(customer(Math.random() < 0.3), "a customer");
          await sleep(1000 / perSecond);
        }
      })();
      return { stop: () => { arriving = false; return loop; } };
    },
    async untilAllTold(deadline) {
      while (Date.now() < deadline) {
        const open = records.customers.filter((t) => !t.closedByUs && !t.dropped && !t.endedNotice && !t.departNotice);
        if (open.length === 0) break;
        await sleep(500);
      }
    },
    stopServing: () => { stopping = true; },
    async stopClients() {
      await Promise.all([...agents, ...records.customers.map((t) => t.client)].map((c) => (c && c.status !== "offline" ? c.stop().catch(() => {}) : undefined)));
    },
  };
}
