/**
 * A real SIP phone with real audio for the tests: baresip (Debian's baresip-core) over UDP on 127.0.0.1,
 * G.711 only, no ICE, no encryption: a plain SIP phone. It plays a sine tone of its own frequency (aufile,
 * a WAV file written here) and records what it hears (the sndfile module's dump of what it decoded), so a
 * test can tell which tone reached which phone. It is driven through its ctrl_tcp module (netstring-framed JSON: commands such as
 * `dial` and `hangup`, and events such as REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeExit, spawnChild, type Child } from "../../launcher/child.js";
import { freePort, isPortFree } from "../../launcher/ports.js";

const HOST = "127.0.0.1";
const RATE = 8000;

export interface BaresipEvent {
  type: string;
  /** The peer's URI, for call events. */
  peeruri?: string;
  param?: string;
  [key: string]: unknown;
}

export interface BaresipOptions {
  /** The phone's address of record, e.g. sip:alice@acme.test. */
  aor: string;
  /** Digest password (registering, or answering a proxy's challenge). */
  password?: string;
  /** The outbound proxy: the soft switch. */
  proxy: { host: string; port: number };
  /** Register (an agent's phone) or not (a caller). */
  register: boolean;
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
  /** The tone it sends, in Hz. */
  toneHz: number;
}

export interface BaresipPhone {
  /** Its SIP port (UDP). */
  port: number;
  events(): BaresipEvent[];
  /** The `count`-th event of this type (counting those already seen). */
  waitFor(type: string, count?: number, timeoutMs?: number): Promise<BaresipEvent>;
  /** A command of baresip's menu (`dial`, `hangup`...); rejects when baresip says it failed or does not answer in 10 s. */
  command(command: string, params?: string): Promise<string>;
  /** Bytes of audio it has decoded (heard) so far, written as it goes: 16,000 a second. */
  heardBytes(): Promise<number>;
  /** Quits, then reads what it heard: 16-bit samples at 8 kHz. */
  stop(): Promise<Int16Array>;
  output(): string;
}

/** `seconds` of a sine tone as a 16-bit mono 8 kHz WAV file (what aufile plays). */
function toneWav(hz: number, seconds: number): Buffer {
  const samples = RATE * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(RATE, 24);
  wav.writeUInt32LE(RATE * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE)), 44 + i * 2);
  return wav;
}

/** The samples of a WAV file aufile wrote (its data chunk, or everything after the header if unfinished). */
function wavSamples(wav: Buffer): Int16Array {
  const data = wav.indexOf("data", 12);
  const start = data >= 0 ? data + 8 : 44;
  const bytes = wav.subarray(start, start + Math.floor((wav.length - start) / 2) * 2);
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/**
 * How much of the signal's power is at `hz` (0 to 1): the Goertzel power at that frequency against the
 * signal's total power. A clean tone gives about 0.5 (half its power in the positive-frequency bin).
 */
export function toneShare(samples: Int16Array, hz: number): number {
  if (samples.length === 0) return 0;
  const w = (2 * Math.PI * hz) / RATE;
  const coeff = 2 * Math.cos(w);
  let s1 = 0, s2 = 0, energy = 0;
  for (const x of samples) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return energy === 0 ? 0 : (2 * power) / (samples.length * energy);
}

/** A port whose next one is free too (baresip listens on SIP over TLS at the SIP port + 1). */
async function sipPort(): Promise<number> {
  for (;;) {
    const port = await freePort({ udp: true });
    if (await isPortFree(port + 1)) return port;
  }
}

/**
 * Starts baresip in `dir` on free ports and connects to its control port. A port taken between our check
 * and baresip's bind (another test worker's process) does not always stop baresip: without its control
 * module it runs on, and a connection to that port reaches the other process, which never answers a
 * command. So it is started again on other ports until its output says it is ready with every port bound.
 */
async function launch(name: string, dir: string): Promise<{ child: Child; port: number; ctrl: Socket }> {
  for (let attempt = 1; ; attempt++) {
    const port = await sipPort();
    const ctrlPort = await freePort();
    await writeFile(join(dir, "config"), [
      "module_path /usr/lib/baresip/modules",
      `sip_listen ${HOST}:${port}`,
      `net_interface ${HOST}`,
      `audio_source aufile,${join(dir, "tone.wav")}`,
      // No sound card: sndfile writes what is decoded (heard) and encoded (sent) to WAV files in snd_path.
      `snd_path ${dir}`,
      "module g711.so",
      "module aufile.so",
      "module sndfile.so",
      "module account.so",
      "module menu.so",
      "module ctrl_tcp.so",
      `ctrl_tcp_listen ${HOST}:${ctrlPort}`,
      "",
    ].join("\n"));
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => { ready = resolve; });
    // BARESIP_TRACE=1: every SIP message it sends and receives is in its output (and in a failing test's message).
    const child = spawnChild(name, "baresip", ["-f", dir, ...(process.env.BARESIP_TRACE ? ["-s"] : [])], {
      cwd: dir,
      onLine: (line) => { if (line.includes("baresip is ready.")) ready(); },
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      isReady.then(() => "ready" as const),
      child.exited.then(() => "ended" as const),
      new Promise<"slow">((resolve) => { timer = setTimeout(() => resolve("slow"), 10_000); }),
    ]);
    clearTimeout(timer);
    // (a SIP port taken ends it; a control port taken does not)
    const taken = child.output().includes("Address already in use");
    if (outcome !== "ready" || taken) {
      await child.stop();
      if (taken && attempt < 5) continue;
      throw new Error(`${name} ${taken ? "found its ports taken at 5 starts" : outcome === "ended" ? "ended at start" : "not ready after 10 s"}\n${child.output()}`);
    }
    const ctrl = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host: HOST, port: ctrlPort });
      s.once("connect", () => resolve(s));
      s.once("error", (err) => { s.destroy(); reject(new Error(`${name}: its control port: ${err.message}\n${child.output()}`)); });
    }).catch(async (err: Error) => { await child.stop(); throw err; });
    return { child, port, ctrl };
  }
}

export async function startBaresip(options: BaresipOptions): Promise<BaresipPhone> {
  const { aor, password, proxy, register, autoAnswer = false, toneHz } = options;
  const dir = await mkdtemp(join(tmpdir(), "switchboard-baresip-"));
  await writeFile(join(dir, "tone.wav"), toneWav(toneHz, 30));
  const params = [
    password ? `auth_pass=${password}` : "",
    `outbound="sip:${proxy.host}:${proxy.port}"`,
    register ? "regint=3600" : "regint=0",
    autoAnswer ? "answermode=auto" : "",
  ].filter(Boolean);
  await writeFile(join(dir, "accounts"), `<${aor}>;${params.join(";")}\n`);
  const name = `baresip ${aor}`;
  const { child, port, ctrl } = await launch(name, dir);
  const events: BaresipEvent[] = [];
  const listeners = new Set<(e: BaresipEvent) => void>();
  const pending = new Map<string, { resolve: (data: string) => void; reject: (err: Error) => void }>();
  let nextToken = 0;

  let buffer = Buffer.alloc(0);
  ctrl.on("error", () => undefined); // baresip going away closes it
  ctrl.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) { // netstrings: <length>:<json>,
      const colon = buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(buffer.subarray(0, colon).toString());
      if (buffer.length < colon + 1 + length + 1) return;
      const message = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString()) as Record<string, unknown>;
      buffer = buffer.subarray(colon + 1 + length + 1);
      if (message.event) {
        const event = message as BaresipEvent;
        events.push(event);
        for (const listener of listeners) listener(event);
      } else if (message.response) {
        const waiter = pending.get(String(message.token));
        pending.delete(String(message.token));
        if (message.ok) waiter?.resolve(String(message.data ?? ""));
        else waiter?.reject(new Error(`${name}: ${String(message.data ?? "command failed").trim()}`));
      }
    }
  });

  const output = () => `${name} events:\n${events.map((e) => JSON.stringify(e)).join("\n") || "(none)"}\n${name} output:\n${child.output()}`;

  const waitFor = (type: string, count = 1, timeoutMs = 10_000): Promise<BaresipEvent> => {
    const seen = events.filter((e) => e.type === type);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]!);
    return new Promise<BaresipEvent>((resolve, reject) => {
      let n = seen.length;
      const done = () => { listeners.delete(listener); clearTimeout(timer); };
      const listener = (e: BaresipEvent) => { if (e.type === type && ++n === count) { done(); resolve(e); } };
      const timer = setTimeout(() => { done(); reject(new Error(`${name}: no ${type} #${count} within ${timeoutMs} ms\n${output()}`)); }, timeoutMs);
      listeners.add(listener);
      void child.exited.then((exit) => { done(); reject(new Error(`${name} ended (${describeExit(exit)}) before ${type} #${count}\n${output()}`)); });
    });
  };

  return {
    port,
    events: () => [...events],
    waitFor,
    command(command, params) {
      const token = `t${++nextToken}`;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(token);
          reject(new Error(`${name}: no answer to ${command} within 10 s\n${output()}`));
        }, 10_000);
        pending.set(token, {
          resolve: (data) => { clearTimeout(timer); resolve(data); },
          reject: (err) => { clearTimeout(timer); reject(err); },
        });
        const json = Buffer.from(JSON.stringify({ command, ...(params === undefined ? {} : { params }), token }));
        ctrl.write(Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(",")]));
      });
    },
    async heardBytes() {
      const dumps = (await readdir(dir)).filter((f) => f.endsWith("-dec.wav"));
      return (await Promise.all(dumps.map(async (f) => Math.max(0, (await stat(join(dir, f))).size - 44)))).reduce((a, b) => a + b, 0);
    },
    async stop() {
      if (!child.hasExited()) {
        ctrl.write(Buffer.from('{"command":"quit"}'.length + ':{"command":"quit"}' + ","));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([child.exited, new Promise((r) => { timer = setTimeout(r, 3000); })]);
        clearTimeout(timer);
        await child.stop(); // SIGTERM if quit did not do
      }
      ctrl.destroy();
      // sndfile: what it decoded, a file per decoder it opened (a stream set up again, say after a re-INVITE,
      // starts another): all of them, in the order of their names (a time stamp).
      const dumps = (await readdir(dir)).filter((f) => f.endsWith("-dec.wav")).sort();
      const parts = await Promise.all(dumps.map(async (f) => wavSamples(await readFile(join(dir, f)))));
      const heard = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (heard.set(p, at), at + p.length), 0);
      await rm(dir, { recursive: true, force: true });
      return heard;
    },
    output,
  };
}
