/**
 * Real terminal XMPP clients (profanity, mcabber, poezio) for tests, each in a detached tmux session of a tmux
 * server of its own (its socket in a temp dir, so a person's tmux is never touched), with its own HOME and
 * config. A test types into them (`tmux send-keys`) and reads their screen (`tmux capture-pane`), as a
 * person would: what is asserted is what a user of that client sees.
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Config } from "../../component/config.js";

const run = promisify(execFile);

/** Wide and tall, so that lines do not wrap and recent lines stay on screen. */
const COLUMNS = 320;
const ROWS = 60;

export interface TerminalClient {
  /** The account's bare JID. */
  jid: string;
  /** The command that shows this client in a terminal (tmux attach): for screenshots. */
  attach: string[];
  /** What the client shows now, as text (whitespace runs, line breaks included, as one space). */
  screen(): Promise<string>;
  /** Types a line and presses Enter (an empty line: Enter alone). */
  type(line: string): Promise<void>;
  /** Types without pressing Enter (a client may tell the other side that its user is typing). */
  write(text: string): Promise<void>;
  /**
   * Waits until the screen matches `pattern` (checked on the whitespace-normalised screen) and returns the
   * screen; fails after `ms` with the screen as it was.
   */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/** A client binary the tests need: a clear failure (with the install command) when it is missing. */
async function need(binary: string): Promise<void> {
  try {
    await run("sh", ["-c", `command -v ${binary}`]);
  } catch {
    throw new Error(`${binary} is not installed; the real-client tests need it: apt-get install tmux profanity mcabber poezio (launcher/test.sh does it as root)`);
  }
}

/**
 * Runs `command` (with `env`) in a new tmux server and session; the screen helpers around it. `slashAlone`:
 * a line beginning with "/" is typed as "/" first, then the rest once the input line (the screen's last)
 * shows the "/", and Enter once it shows the rest (poezio: see there).
 */
async function inTmux(jid: string, dir: string, env: Record<string, string>, command: string[], { slashAlone = false } = {}): Promise<TerminalClient> {
  const socket = join(dir, "tmux.sock");
  const tmux = (...args: string[]) => run("tmux", ["-S", socket, "-f", "/dev/null", ...args], { maxBuffer: 4 << 20 });
  const envArgs = Object.entries({ TERM: "xterm-256color", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...env }).map(([k, v]) => `${k}=${v}`);
  await tmux("new-session", "-d", "-s", "client", "-x", String(COLUMNS), "-y", String(ROWS), "env", ...envArgs, ...command);
  await tmux("set-option", "-t", "client", "status", "off"); // only the client when attached (screenshots)
  const raw = async () => (await tmux("capture-pane", "-p", "-t", "client")).stdout;
  /** The screen for a failure message: without trailing blanks and empty lines. */
  const shown = async () => (await raw()).split("\n").map((l) => l.trimEnd()).filter(Boolean).join("\n");
  const screen = async () => (await raw()).replace(/\s+/g, " ");
  const write = async (text: string) => { await tmux("send-keys", "-t", "client", "-l", text); }; // -l: literally, never as key names
  const waitFor = async (pattern: RegExp, ms = 8000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = await screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) {
        throw new Error(`${command[command.length - 1]} of ${jid}: ${pattern} not on screen within ${ms} ms; the screen:\n${await shown().catch((e: Error) => e.message)}`);
      }
      await new Promise((r) => setTimeout(r, 50)); // polling interval, not a stand-in for an event
    }
  };
  const type = async (line: string) => {
    if (slashAlone && line.startsWith("/")) {
      await write("/");
      await waitFor(/\s\/\s*$/); // the input line, the screen's last, shows it: poezio took it alone
      line = line.slice(1);
    }
    if (line) await write(line);
    // poezio drops an Enter that comes in the same read as the text before it (a paste), as when it was busy
    // while both were typed: the Enter waits until the input line shows the text.
    if (slashAlone && line) await waitFor(new RegExp(`${escape(line.slice(-20)).replace(/\s+/g, "\\s+")}\\s*$`));
    await tmux("send-keys", "-t", "client", "Enter");
  };
  return {
    jid,
    attach: ["tmux", "-S", socket, "attach", "-t", "client"],
    screen,
    type,
    write,
    waitFor,
    async stop() {
      // /quit (every client here) closes the XMPP stream: a client merely killed would leave a session that Prosody
      // keeps for stream resumption (XEP-0198), and its person online for that long. Its end ends the tmux server.
      await type("/quit").catch(() => undefined);
      for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
        if (!(await tmux("has-session", "-t", "client").then(() => true, () => false))) break;
        await new Promise((r) => setTimeout(r, 50)); // polling interval, not a stand-in for an event
      }
      await tmux("kill-server").catch(() => undefined); // this client's own tmux server, if /quit did not end it
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const c2s = (config: Config) => config.ports.c2s;

/** profanity started for `jid` (its own profile), not connected yet: its console window shown. */
export async function startProfanity(jid: string): Promise<TerminalClient> {
  await need("tmux");
  await need("profanity");
  const dir = mkdtempSync(join(tmpdir(), "switchboard-profanity-"));
  mkdirSync(join(dir, "config", "profanity"), { recursive: true });
  // No splash, no autoaway (an agent going away by itself would change its state), no desktop notifications.
  writeFileSync(join(dir, "config", "profanity", "profrc"),
    "[ui]\nsplash=false\n[notifications]\nmessage=false\nroom=false\ninvite=false\nsub=false\n[presence]\nautoaway.mode=off\n[connection]\nautoping=0\n");
  const client = await inTmux(jid, dir, { HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), XDG_DATA_HOME: join(dir, "data") }, ["profanity"]);
  try {
    await client.waitFor(/Type '\/help'/);
    return client;
  } catch (err) {
    await client.stop();
    throw err;
  }
}

/**
 * profanity logged in as `jid`, as the README says (`/connect JID server 127.0.0.1 port P`). `tls`: the
 * test stack's Prosody offers no TLS, hence "disable" by default; with "force", `caPath` (a folder of
 * hashed CA certificates, `openssl rehash`) is what profanity trusts.
 */
export async function profanity(config: Config, jid: string, password: string, { tls = "disable", caPath }: { tls?: "disable" | "force"; caPath?: string } = {}): Promise<TerminalClient> {
  const client = await startProfanity(jid);
  try {
    if (caPath) {
      await client.type(`/tls certpath set ${caPath}`);
      await client.waitFor(/Certificate path set to/);
    }
    await client.type(`/connect ${jid} server 127.0.0.1 port ${c2s(config)} tls ${tls}`);
    await client.waitFor(/Enter password:/);
    await client.type(password);
    await client.waitFor(new RegExp(`${escape(jid)}/\\S+ logged in successfully`));
    return client;
  } catch (err) {
    await client.stop();
    throw err;
  }
}

/**
 * mcabber started for `jid` from its mcabberrc; it connects at once. Plain TCP by default (the test stack's
 * Prosody offers no TLS); `tls` with `ca`: STARTTLS, trusting the authority in that file (`set ssl_ca`).
 * Its log window (errors included) is always on screen; `/roster search JID` then an empty line shows a
 * conversation ("chat mode": `-->` what it sent, `<==` what it received).
 */
export async function startMcabber(config: Config, jid: string, password: string, { tls = false, ca }: { tls?: boolean; ca?: string } = {}): Promise<TerminalClient> {
  await need("tmux");
  await need("mcabber");
  const dir = mkdtempSync(join(tmpdir(), "switchboard-mcabber-"));
  const rcDir = join(dir, ".mcabber");
  mkdirSync(rcDir, { mode: 0o700 });
  const rc = join(rcDir, "mcabberrc");
  writeFileSync(rc, [
    `set jid = ${jid}`, `set password = ${password}`, "set server = 127.0.0.1", `set port = ${c2s(config)}`,
    `set tls = ${tls ? 1 : 0}`, "set ssl = 0", ...(ca ? [`set ssl_ca = ${ca}`] : []), "set resource = mcabber", "set disable_random_resource = 1",
    "set beep_on_message = 0", "set log_win_height = 10", "set roster_width = 36", "",
  ].join("\n"));
  chmodSync(rc, 0o600); // mcabber warns about a config others may read
  return inTmux(jid, dir, { HOME: dir }, ["mcabber"]);
}

/** mcabber logged in as `jid` (options as startMcabber's). */
export async function mcabber(config: Config, jid: string, password: string, options: { tls?: boolean; ca?: string } = {}): Promise<TerminalClient> {
  const client = await startMcabber(config, jid, password, options);
  try {
    await client.waitFor(/Your status has been set/);
    return client;
  } catch (err) {
    await client.stop();
    throw err;
  }
}

/** poezio refuses to run as root ("Please do not run poezio as root"): as root it runs as user nobody. */
const NOBODY = 65534;

/**
 * poezio started for `jid`, configured as docs/clients.md says (`jid`, `password`, `custom_host`,
 * `custom_port` in its poezio.cfg); it connects at once. Plain TCP by default (the test stack's Prosody
 * offers no TLS: `force_encryption = false`); `tls`: TLS required, trusting the system store or, with `ca`,
 * that file (`ca_cert_path`). As root (tests and CI) it runs as uid 65534 (nobody; the number needs no
 * account in /etc/passwd), its HOME and XDG folders in a temp dir given to that uid. Its first tab, the
 * roster, takes a "/" to open its command line and drops keys that arrive in the same read as a paste, so
 * a command is typed "/" first (`slashAlone`). Messages show as `HH:MM:SS nick> text`, the nick being the
 * local part of a JID not in the roster (`billing>`), its own `carol>`.
 */
export async function startPoezio(config: Config, jid: string, password: string, { tls = false, ca }: { tls?: boolean; ca?: string } = {}): Promise<TerminalClient> {
  await need("tmux");
  await need("poezio");
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-poezio-"));
  const cfgDir = join(dir, "config", "poezio");
  mkdirSync(cfgDir, { recursive: true });
  const caCopy = join(dir, "ca.crt"); // inside the dir given to uid 65534: the caller's file may be readable by root only
  if (ca) copyFileSync(ca, caCopy);
  const cfg = join(cfgDir, "poezio.cfg");
  // No tab list on the side (one line of tab numbers instead), no beeps, no reconnecting after a refused
  // certificate; the welcome text is shown only when poezio has to create this file.
  writeFileSync(cfg, [
    "[Poezio]", `jid = ${jid}`, `password = ${password}`, "custom_host = 127.0.0.1", `custom_port = ${c2s(config)}`,
    `force_encryption = ${tls}`, ...(ca ? [`ca_cert_path = ${caCopy}`] : []),
    "enable_vertical_tab_list = false", "beep_on =", "auto_reconnect = false", "",
  ].join("\n"), { mode: 0o600 });
  if (root) for (const path of [dir, join(dir, "config"), cfgDir, cfg, ...(ca ? [caCopy] : [])]) chownSync(path, NOBODY, NOBODY);
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), XDG_DATA_HOME: join(dir, "data"), XDG_CACHE_HOME: join(dir, "cache") };
  const command = root ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "poezio"] : ["poezio"];
  return inTmux(jid, dir, env, command, { slashAlone: true });
}

/** poezio logged in as `jid` (options as startPoezio's). */
export async function poezio(config: Config, jid: string, password: string, options: { tls?: boolean; ca?: string } = {}): Promise<TerminalClient> {
  const client = await startPoezio(config, jid, password, options);
  try {
    await client.waitFor(new RegExp(`Info> Your JID is ${escape(jid)}/`));
    return client;
  } catch (err) {
    await client.stop();
    throw err;
  }
}

/** A string as a literal inside a RegExp. */
export const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
