/**
 * entity.start() for an xmpp.js client or component, without its flaw (@xmpp/connection 0.13 and 0.14):
 * start() creates its "online" promise (which rejects on the entity's next "error") before opening the
 * stream, and when the open fails (a socket reset while Prosody goes down) it throws the open's error and
 * leaves that promise rejected with nobody listening: an unhandled rejection (`Error: read ECONNRESET`)
 * that ends the process (it ended a 200-cycle chaos run at cycle 26). Here the open and "online" are
 * awaited together, with a deadline. A client resolves only once its stream management is settled
 * (protocol/stream-management.ts: otherwise Prosody may close the stream for a wrong ack count).
 */
import { watchStreamManagement } from "../../protocol/stream-management.js";

interface Startable {
  status: string;
  on(event: string, listener: (arg?: unknown) => void): unknown;
  off(event: string, listener: (arg?: unknown) => void): unknown;
}
interface Internals {
  options: { service: string; domain: string; lang?: string };
  connect(service: string): Promise<unknown>;
  open(o: { domain: string; lang?: string }): Promise<unknown>;
}

export async function startEntity(entity: Startable, timeoutMs = 10_000): Promise<void> {
  if (entity.status !== "offline") throw new Error("Connection is not offline");
  const conn = entity as unknown as Internals;
  const streamManagement = watchStreamManagement(entity as never);
  const { service, domain, lang } = conn.options;
  let settle: (err?: unknown) => void = () => undefined;
  const online = new Promise<void>((resolve, reject) => {
    const onOnline = () => settle();
    const onError = (err?: unknown) => settle(err);
    const timer = setTimeout(() => settle(new Error(`not online after ${timeoutMs} ms`)), timeoutMs);
    settle = (err?: unknown) => {
      clearTimeout(timer);
      entity.off("online", onOnline);
      entity.off("error", onError);
      if (err) reject(err); else resolve();
    };
    entity.on("online", onOnline);
    entity.on("error", onError);
  });
  const opened = (async () => {
    await conn.connect(service);
    await conn.open({ domain, lang });
  })();
  try {
    await Promise.all([opened, online]);
  } catch (err) {
    settle(err); // whichever failed first, the other is handled by Promise.all
    streamManagement.forget();
    throw err;
  }
  await streamManagement.settled();
}
