/**
 * (b) + (c) Customers routed end to end over real XMPP connections: join -> assigned -> beginning
 * message to the seat -> the customer's first message accepted by the seat module -> in service ->
 * the agent replies and ends. Agents are XMPP clients that reply and end at once.
 */
import { NS } from "../protocol/names.js";
import { type Client, type Element, xml } from "./clients.js";

export interface PhaseCounts {
  completed: number;
  joinToAssignedMs: number[];
  releaseToNextMs: number[];
  joinErrors: number;
  bounces: number;
  endErrors: number;
  /** Stanzas the bench's clients sent, and stanzas they received from the component. */
  clientSent: number;
  fromComponent: number;
  /** Presence the customers got from their seats (the seat module's directed presence: at the grant and at the end). */
  seatPresence: number;
}

const fresh = (): PhaseCounts => ({ completed: 0, joinToAssignedMs: [], releaseToNextMs: [], joinErrors: 0, bounces: 0, endErrors: 0, clientSent: 0, fromComponent: 0, seatPresence: 0 });

export function routingDriver({ customers, agents, queueJid, cc }: { customers: Client[]; agents: Client[]; queueJid: string; cc: string }) {
  let counts = fresh();
  let seq = 0;
  const id = (p: string) => `${p}${++seq}`;
  const fromCc = (s: Element) => { const f = String(s.attrs.from ?? ""); return f === cc || f.endsWith(`@${cc}`) || f.startsWith(`${cc}/`); };

  // ---- agents: on a customer's first message, reply and end the session
  const agentState = agents.map(() => ({ sessions: new Map<string, string>(), releasedAt: null as number | null }));
  agents.forEach((a, i) => {
    const st = agentState[i]!;
    a.on("stanza", (s: Element) => {
      if (fromCc(s)) counts.fromComponent++;
      if (s.is("iq") && s.attrs.type === "error") { counts.endErrors++; return; }
      if (!s.is("message")) return;
      const begin = s.getChild("begin", NS.SB);
      if (begin) {
        st.sessions.set(String(begin.attrs.customer), String(begin.attrs.session));
        if (st.releasedAt !== null) { counts.releaseToNextMs.push(performance.now() - st.releasedAt); st.releasedAt = null; }
        return;
      }
      const session = st.sessions.get(String(s.attrs.from));
      if (!session || s.attrs.type === "error" || !s.getChildText("body")) return;
      st.sessions.delete(String(s.attrs.from));
      counts.clientSent += 2;
      a.send(xml("message", { to: s.attrs.from, type: "chat" }, xml("body", {}, "Hello, how can I help?"))).catch(() => undefined);
      a.send(xml("iq", { to: cc, type: "set", id: id("end") }, xml("end", { xmlns: NS.SB, session }))).catch(() => undefined);
      st.releasedAt = performance.now();
    });
  });

  // ---- customers: join, write to the seat when assigned, wait for the end
  let running = false;
  let onIdle: (i: number) => void = () => undefined;
  const busy = new Set<number>();
  const custState = customers.map(() => ({ joinedAt: 0, joinId: "", session: "", seat: "" }));
  const startCycle = (i: number) => {
    const st = custState[i]!;
    busy.add(i);
    st.joinedAt = performance.now();
    st.joinId = id("join");
    st.session = "";
    counts.clientSent++;
    customers[i]!.send(xml("iq", { to: queueJid, type: "set", id: st.joinId }, xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications")))).catch(() => undefined);
  };
  const say = (i: number) => {
    const st = custState[i]!;
    counts.clientSent++;
    customers[i]!.send(xml("message", { to: st.seat, type: "chat" }, xml("body", {}, "Hello, about my invoice"))).catch(() => undefined);
  };
  customers.forEach((c, i) => {
    const st = custState[i]!;
    c.on("stanza", (s: Element) => {
      if (fromCc(s)) counts.fromComponent++;
      else if (s.is("presence")) counts.seatPresence++;
      if (s.is("iq") && s.attrs.id === st.joinId && s.attrs.type === "error") {
        counts.joinErrors++;
        setTimeout(() => (running ? startCycle(i) : (busy.delete(i), onIdle(i))), 20);
        return;
      }
      if (!s.is("message")) return;
      const assigned = s.getChild("assigned", NS.SB);
      if (assigned && !st.session) {
        counts.joinToAssignedMs.push(performance.now() - st.joinedAt);
        st.session = String(assigned.attrs.session);
        st.seat = String(assigned.attrs.seat);
        say(i);
        return;
      }
      if (s.attrs.type === "error" && st.session && String(s.attrs.from).startsWith(st.seat)) {
        counts.bounces++; // the grant was not there yet: write again
        setTimeout(() => say(i), 5);
        return;
      }
      const ended = s.getChild("ended", NS.SB);
      if (ended && ended.attrs.session === st.session) {
        counts.completed++;
        st.session = "";
        busy.delete(i);
        onIdle(i);
      }
    });
  });

  return {
    /** Closed loop: every customer starts again as soon as its session ended, for `ms`; then drains. */
    async closed(ms: number, drainMs = 5000): Promise<{ counts: PhaseCounts; seconds: number; inWindow: number }> {
      counts = fresh();
      agentState.forEach((a) => { a.releasedAt = null; });
      running = true;
      onIdle = (i) => { if (running) startCycle(i); };
      const t0 = performance.now();
      customers.forEach((_, i) => startCycle(i));
      await new Promise((r) => setTimeout(r, ms));
      running = false;
      const seconds = (performance.now() - t0) / 1000;
      const inWindow = counts.completed;
      const deadline = Date.now() + drainMs;
      while (busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      agentState.forEach((a) => { a.releasedAt = null; });
      return { counts, seconds, inWindow };
    },
    /** Open loop: a new customer starts every 1/rate s (an idle one; skipped if none is idle). */
    async open(rate: number, ms: number, drainMs = 5000): Promise<{ counts: PhaseCounts; seconds: number; started: number; skipped: number }> {
      counts = fresh();
      running = false;
      onIdle = () => undefined;
      agentState.forEach((a) => { a.releasedAt = null; });
      let started = 0, skipped = 0;
      const t0 = performance.now();
      const interval = 1000 / rate;
      for (let k = 0; performance.now() - t0 < ms; k++) {
        const due = t0 + k * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const idle = customers.findIndex((_, i) => !busy.has(i));
        if (idle < 0) { skipped++; continue; }
        started++;
        startCycle(idle);
      }
      const seconds = (performance.now() - t0) / 1000;
      const deadline = Date.now() + drainMs;
      while (busy.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      agentState.forEach((a) => { a.releasedAt = null; });
      return { counts, seconds, started, skipped };
    },
    busy: () => busy.size,
  };
}
