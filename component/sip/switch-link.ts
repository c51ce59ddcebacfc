/**
 * The component's line to the soft switch: Kamailio's evapi socket, commands out as netstrings
 * (softswitch/kamailio.cfg lists them). What the switch reports comes back another way, through a Redis
 * stream, so that nothing it reports is lost while this line is down.
 *
 * Kamailio 5.6's evapi loses a command whose netstring one read of the socket splits in its length or just
 * before its closing comma, and the whole next read with it (docs/voice.md, "Commands that evapi drops").
 * A burst larger than its 32 KiB buffer is read in parts, so this happens under load. Every command is
 * numbered on its connection (1, 2, ...); the switch, which handles them in order, reports a number that
 * skips ("lost|<our address>|<last>|<next>"), and the commands in between are sent again. A ping after
 * each burst finds a loss at its end.
 */
import { connect, type Socket } from "node:net";
import type { Logger } from "pino";
import { corkEachTick } from "../cork.js";

/** How soon to try again when the switch cannot be reached (it is starting, or restarting). */
const RECONNECT_MS = 500;

/** How soon after a burst of commands a ping follows it. */
const PING_MS = 200;

/** How long a sent command is kept, for a report of its loss to name it. */
const KEEP_MS = 30_000;

/** A field of a command: the separator and anything that could end the Reason header's quoted text go. */
const field = (value: string) => value.replace(/[|"\\\r\n\x00-\x1f]/g, " ");

/** The switch's messages on this line, netstrings ("<length>:<data>,") of "lost|<address:port>|<last>|<next>". */
export function parseLost(buffer: string): { lost: Array<{ link: string; from: number; to: number }>; rest: string } {
  const lost: Array<{ link: string; from: number; to: number }> = [];
  let rest = buffer;
  for (;;) {
    const m = /^\s*(\d{1,6}):/.exec(rest);
    if (!m) break;
    const start = m[0].length;
    const end = start + Number(m[1]);
    if (rest.length <= end) break; // the rest of it is still on the way
    const [kind, link = "", last, next] = rest.slice(start, end).split("|");
    if (kind === "lost") lost.push({ link, from: Number(last) + 1, to: Number(next) - 1 });
    rest = rest.slice(end + 1);
  }
  return { lost, rest: rest.length > 4096 ? "" : rest };
}

export interface SwitchLink {
  isUp(): boolean;
  /** Sends one command; throws when the switch is not connected (the caller's event is then retried). */
  send(...fields: string[]): void;
  stop(): void;
}

export function createSwitchLink({ host, port, log, onConnect }: { host: string; port: number; log: Logger; onConnect: () => void }): SwitchLink {
  let socket: Socket | null = null;
  let stopped = false;
  /** This connection's address as the switch sees it, its commands' last number, and those kept by number. */
  let me = "";
  let last = 0;
  let kept = new Map<number, { data: string; at: number }>();
  /** The number of the last ping: commands were sent since when the last number is above it. */
  let pinged = 0;

  const write = (s: Socket, data: string) => {
    const numbered = `${++last}|${data}`;
    s.write(`${Buffer.byteLength(numbered)}:${numbered},`);
    return last;
  };
  const send = (s: Socket, data: string) => {
    kept.set(write(s, data), { data, at: Date.now() });
  };

  const open = () => {
    const s = connect(port, host);
    s.setNoDelay(true);
    // Commands of the same tick leave in one write: a batch of reports or events routes many calls at once,
    // and a write each showed in the CPU profile.
    corkEachTick(s);
    let received = "";
    s.on("connect", () => {
      socket = s;
      me = `${(s.localAddress ?? "").replace(/^::ffff:/, "")}:${s.localPort}`;
      last = 0;
      pinged = 0;
      kept = new Map();
      log.info({ port }, "connected to the soft switch");
      onConnect();
    });
    s.setEncoding("utf8");
    s.on("data", (chunk: string) => {
      const { lost, rest } = parseLost(received + chunk);
      received = rest;
      for (const { link, from, to } of lost) {
        if (link !== me || socket !== s) continue; // another instance's, or an old connection's
        let again = 0;
        for (let n = from; n <= to; n++) {
          const c = kept.get(n);
          if (!c) continue; // a ping, or too old
          kept.delete(n);
          send(s, c.data);
          again++;
        }
        if (again) log.warn({ again }, "the soft switch dropped commands (evapi); sent again");
      }
    });
    s.on("error", (err) => log.debug({ err: err.message }, "soft switch connection error"));
    s.on("close", () => {
      if (socket === s) {
        socket = null;
        log.warn("lost the connection to the soft switch; reconnecting");
      }
      if (!stopped) setTimeout(open, RECONNECT_MS).unref();
    });
  };
  open();

  // After a burst, a ping: the switch reports commands lost at the burst's end when it gets the ping.
  const pinger = setInterval(() => {
    const cutoff = Date.now() - KEEP_MS;
    for (const [n, c] of kept) {
      if (c.at >= cutoff) break;
      kept.delete(n);
    }
    if (!socket || last === pinged) return;
    pinged = write(socket, "ping");
  }, PING_MS);
  pinger.unref();

  return {
    isUp: () => socket !== null,
    send(...fields) {
      if (!socket) throw new Error("the soft switch is not connected");
      send(socket, fields.map(field).join("|"));
    },
    stop() {
      stopped = true;
      clearInterval(pinger);
      socket?.destroy();
    },
  };
}
