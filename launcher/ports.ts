/** TCP port helpers for the launcher and the tests. */
import { readFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { createConnection, createServer } from "node:net";

/** Where the kernel takes the source ports of outgoing connections (Linux; 32768 elsewhere or unreadable). */
function ephemeralStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Ports this process handed out, so two stacks of one test run never get the same one. */
const handedOut = new Set<number>();

/**
 * A port free right now on 127.0.0.1, below the kernel's ephemeral range: a port from that range (what
 * listen(0) gives) may be taken at any moment as the source port of some outgoing connection (the tests
 * open hundreds) between choosing it and the server binding it, which made a test fail now and then.
 */
export async function freePort({ udp = false } = {}): Promise<number> {
  const top = Math.min(ephemeralStart(), 32768);
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (top - 10_000));
    if (!handedOut.has(port) && (await isPortFree(port)) && (!udp || (await isUdpPortFree(port)))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found between 10000 and ${top}`);
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

/** Whether we could bind a UDP socket on host:port (SIP listens on UDP and TCP). */
export function isUdpPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => { socket.close(); resolve(false); });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
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
