/**
 * Settings for an xmpp.js entity's TCP socket, applied at each (re)connection.
 * - Nagle's algorithm off: stanzas are small and each waits for an answer, so a write held back until the
 *   previous one is acknowledged only adds latency (measured by the bench: a paced ping's p50 went from
 *   ~1 ms to ~6 ms with Nagle on both ends). Prosody does the same on its side (network_settings nagle = false).
 * - UTF-8 decoded by the socket: xmpp.js turns each chunk read into text on its own, so a character whose
 *   bytes straddle two reads became two U+FFFD (a form field of emoji then measured, and was stored, wrong).
 *   With an encoding set, Node's decoder carries the partial character over to the next chunk.
 */
import { corkEachTick, type Corkable } from "../cork.js";

interface TcpLike { setNoDelay?: (on: boolean) => void; setEncoding?: (encoding: "utf8") => void }

export function tuneSocket(entity: { on(event: "connect", listener: () => void): unknown }): void {
  entity.on("connect", () => {
    const socket = (entity as { socket?: TcpLike }).socket;
    socket?.setNoDelay?.(true);
    socket?.setEncoding?.("utf8");
  });
}

/** Stanzas written in the same tick leave in one write (cork.ts), at each (re)connection. */
export function coalesceWrites(entity: { on(event: "connect", listener: () => void): unknown }): void {
  entity.on("connect", () => {
    const socket = (entity as { socket?: Partial<Corkable> }).socket;
    if (socket?.write && socket.cork && socket.uncork) corkEachTick(socket as Corkable);
  });
}
