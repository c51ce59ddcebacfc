/**
 * rtpengine (Debian's rtpengine-daemon), the media relay that calls with a browser leg go through (every call
 * with `media.anchor: all`): in userspace (no kernel module, `--table=-1`), on one interface (`media.host`),
 * RTP ports from `media.rtpMin`-`rtpMax`, its ng control protocol on a UDP loopback port for the soft switch.
 * A child of `npm start` or of the test stack, like Kamailio; ready when it answers an ng `ping`.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import type { Config } from "../component/config.js";
import { spawnChild, type ChildExit } from "./child.js";
import { freePort, isUdpPortFree } from "./ports.js";

export interface RtpengineOptions {
  media: Config["media"];
  /** The ng control port (UDP, 127.0.0.1); default `media.ngPort`, else a free one. */
  ngPort?: number;
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

export interface RunningRtpengine {
  pid: number;
  /** Where the ng protocol listens: what Kamailio's `rtpengine_sock` names. */
  ngPort: number;
  exited: Promise<ChildExit>;
  output(): string;
  stop(): Promise<void>;
}

export async function startRtpengine({ media, onLine, timeoutMs = 10_000, ...options }: RtpengineOptions): Promise<RunningRtpengine> {
  const ngPort = options.ngPort ?? media.ngPort ?? (await freePort({ udp: true }));
  if (!(await isUdpPortFree(ngPort))) throw new Error(`media.ngPort ${ngPort} (UDP) is in use (is another instance running?)`);
  const child = spawnChild("rtpengine", "rtpengine", [
    "--config-file=none", // never /etc/rtpengine/rtpengine.conf (kernel table 0, ports of its own)
    "--foreground", "--log-stderr", "--log-level=5",
    "--table=-1", // userspace forwarding: no kernel module, no iptables
    `--interface=${media.host}`,
    `--listen-ng=127.0.0.1:${ngPort}`,
    `--port-min=${media.rtpMin}`, `--port-max=${media.rtpMax}`,
    // A deleted call goes at once (the default keeps it 30 s): what `list` shows is what is live.
    "--delete-delay=0",
    // A call whose media stopped (a lost BYE, a switch restart mid-call) is dropped after a minute of
    // silence on every stream; one on hold (sendonly/inactive) after an hour.
    "--timeout=60", "--silent-timeout=3600",
  ], { onLine });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited()) throw new Error(`rtpengine stopped during startup\n${child.output()}`);
    const pong = await ngCommand(ngPort, { command: "ping" }, 200).catch(() => undefined);
    if (pong?.result === "pong") break;
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`rtpengine did not answer an ng ping on 127.0.0.1:${ngPort} within ${timeoutMs} ms\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25)); // polling interval, not a stand-in for an event
  }
  return { pid: child.pid, ngPort, exited: child.exited, output: child.output, stop: () => child.stop() };
}

/** A bencoded value as rtpengine's ng protocol uses them (strings come back as strings). */
export type Bencoded = string | number | Bencoded[] | { [key: string]: Bencoded };

export function bencode(value: Bencoded): Buffer {
  if (typeof value === "number") return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from("l"), ...value.map(bencode), Buffer.from("e")]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from("d"), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from("e")]);
}

export function bdecode(data: Buffer): Bencoded {
  let at = 0;
  const next = (): Bencoded => {
    const c = String.fromCharCode(data[at]!);
    if (c === "i") {
      const end = data.indexOf(0x65, at); // "e"
      const n = Number(data.subarray(at + 1, end).toString());
      at = end + 1;
      return n;
    }
    if (c === "l") {
      at++;
      const list: Bencoded[] = [];
      while (data[at] !== 0x65) list.push(next());
      at++;
      return list;
    }
    if (c === "d") {
      at++;
      const dict: Record<string, Bencoded> = {};
      while (data[at] !== 0x65) {
        const key = next() as string;
        dict[key] = next();
      }
      at++;
      return dict;
    }
    if (c >= "0" && c <= "9") {
      const colon = data.indexOf(0x3a, at); // ":"
      const length = Number(data.subarray(at, colon).toString());
      const s = data.subarray(colon + 1, colon + 1 + length).toString("utf8");
      at = colon + 1 + length;
      return s;
    }
    throw new Error(`bencode: unexpected ${JSON.stringify(c)} at ${at}`);
  };
  const value = next();
  if (at !== data.length) throw new Error(`bencode: ${data.length - at} bytes after the value`);
  return value;
}

/** One ng command to the rtpengine on 127.0.0.1:`port` ("<cookie> <bencoded dict>" over UDP); its reply's dict. */
export function ngCommand(port: number, command: Record<string, Bencoded>, timeoutMs = 2000): Promise<Record<string, Bencoded>> {
  const cookie = randomBytes(6).toString("hex");
  const socket = createSocket("udp4");
  return new Promise<Record<string, Bencoded>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtpengine ng ${String(command.command)}: no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on("error", (err) => { clearTimeout(timer); reject(err); });
    socket.on("message", (msg) => {
      const space = msg.indexOf(0x20);
      if (msg.subarray(0, space).toString() !== cookie) return; // not ours
      clearTimeout(timer);
      try {
        resolve(bdecode(msg.subarray(space + 1)) as Record<string, Bencoded>);
      } catch (err) {
        reject(err);
      }
    });
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), port, "127.0.0.1", (err) => {
      if (err) { clearTimeout(timer); reject(err); }
    });
  }).finally(() => socket.close());
}
