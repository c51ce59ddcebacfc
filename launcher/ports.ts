/** TCP port helpers for the launcher and the tests. */
import { createConnection, createServer } from "node:net";

/** A port the OS considers free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether we could listen on host:port (false when something already does). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fails with a message naming the config key of the first busy port. */
export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [key, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) throw new Error(`${key} ${port} is in use (is another instance running?)`);
  }
}

function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * Polls until every port accepts a TCP connection. `abort` is checked between
 * attempts (e.g. "the server process died") and its message becomes the error.
 */
export async function waitForPorts(ports: number[], { timeoutMs, host = "127.0.0.1", abort }: { timeoutMs: number; host?: string; abort?: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = abort?.();
    if (reason) throw new Error(reason);
    const open = await Promise.all(ports.map((p) => accepts(p, host)));
    if (open.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`ports ${ports.filter((_, i) => !open[i]).join(", ")} still closed after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25)); // polling interval, not a stand-in for an event
  }
}
