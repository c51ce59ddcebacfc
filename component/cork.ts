/**
 * Writes to a socket in the same tick leave in one write: the socket is corked at the first and uncorked on
 * the next tick (Node's documented idiom), so nothing waits longer than the current tick. On this kind of
 * machine a socket write is a wake-up of the process that reads it, and under load the component writes
 * many small messages at once: stanzas to Prosody (a Redis reply that serves many joins gives as many IQ
 * results), commands to Redis, commands to the soft switch.
 */
export interface Corkable { write(...args: unknown[]): boolean; cork(): void; uncork(): void }

export function corkEachTick(socket: Corkable): void {
  const write = socket.write.bind(socket);
  let corked = false;
  socket.write = (...args) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => { corked = false; socket.uncork(); });
    }
    return write(...args);
  };
}
