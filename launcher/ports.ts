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

/** How many slices the range is cut into for jest's workers (more than jest.config.js's maxWorkers). */
const WORKER_SLICES = 8;

/**
 * Where this process picks ports: a jest worker only in its own slice of the range, so two workers' stacks
 * cannot pick the same port between one's check and its server's bind (handedOut is per process).
 */
export function portRange(jestWorker = process.env.JEST_WORKER_ID): { low: number; high: number } {
  const low = 10_000, high = Math.min(ephemeralStart(), 32768);
  const worker = Number(jestWorker);
  if (!Number.isInteger(worker) || worker < 1) return { low, high };
  const size = Math.floor((high - low) / WORKER_SLICES);
  const start = low + ((worker - 1) % WORKER_SLICES) * size;
  return { low: start, high: start + size };
}

/**
 * A port free right now on 127.0.0.1, below the kernel's ephemeral range: a port from that range (what
 * listen(0) gives) may be taken at any moment as the source port of some outgoing connection (the tests
 * open hundreds) between choosing it and the server binding it, which made a test fail now and then.
 */
export async function freePort({ udp = false } = {}): Promise<number> {
  const { low, high } = portRange();
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!handedOut.has(port) && (await isPortFree(port)) && (!udp || (await isUdpPortFree(port)))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found between ${low} and ${high}`);
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
