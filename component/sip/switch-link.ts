/**
 * The component's line to the soft switch: Kamailio's evapi socket, commands out as netstrings
 * (softswitch/kamailio.cfg lists them). What the switch reports comes back another way, through a Redis
 * stream, so that nothing it reports is lost while this line is down.
 */
import { connect, type Socket } from "node:net";
import type { Logger } from "pino";

/** How soon to try again when the switch cannot be reached (it is starting, or restarting). */
const RECONNECT_MS = 500;

/** A field of a command: the separator and anything that could end the Reason header's quoted text go. */
const field = (value: string) => value.replace(/[|"\\\r\n\x00-\x1f]/g, " ");

export interface SwitchLink {
  isUp(): boolean;
  /** Sends one command; throws when the switch is not connected (the caller's event is then retried). */
  send(...fields: string[]): void;
  stop(): void;
}

export function createSwitchLink({ host, port, log, onConnect }: { host: string; port: number; log: Logger; onConnect: () => void }): SwitchLink {
  let socket: Socket | null = null;
  let stopped = false;
  const open = () => {
    const s = connect(port, host);
    s.setNoDelay(true);
    s.on("connect", () => {
      socket = s;
      log.info({ port }, "connected to the soft switch");
      onConnect();
    });
    s.on("data", () => undefined); // the switch sends us nothing on this line
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
  return {
    isUp: () => socket !== null,
    send(...fields) {
      if (!socket) throw new Error("the soft switch is not connected");
      const data = fields.map(field).join("|");
      // Commands of the same tick leave in one write (as stanzas do: xmpp/tcp-socket.ts coalesceWrites):
      // a batch of reports or events routes many calls at once, and a write each showed in the CPU profile.
      if (!socket.writableCorked) {
        const s = socket;
        s.cork();
        process.nextTick(() => s.uncork());
      }
      socket.write(`${Buffer.byteLength(data)}:${data},`);
    },
    stop() {
      stopped = true;
      socket?.destroy();
    },
  };
}
