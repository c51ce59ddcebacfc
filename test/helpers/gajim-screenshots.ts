/**
 * README screenshots of Gajim as agent Alice serving a customer (issue 15, point 7). Not a test and not in
 * CI: run by hand after a build, `node dist/test/helpers/gajim-screenshots.js`. Needs Debian's gajim, xvfb,
 * xdotool, imagemagick and xterm, and tmux and profanity (the customer). It starts the test stack on free ports,
 * Gajim under its own Xvfb display (as user nobody when run as root: Gajim refuses to run as root), logs
 * Alice in from a prepared Gajim profile, and writes docs/screenshots/gajim-agent-chat.png and
 * gajim-agent-end.png, and the customer's side (profanity in an xterm) as profanity-customer-end.png.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { pino } from "pino";
import { startComponent } from "../../component/app.js";
import { startTestStack } from "../../launcher/stack.js";
import { profanity } from "./tmux-client.js";

const run = promisify(execFile);
const OUT = new URL("../../../docs/screenshots/", import.meta.url).pathname;
const NOBODY = 65534;
const WINDOW = { width: 1100, height: 640 };

/** Polls until `probe` holds (the GUI tells nothing else); fails after `ms` with `what`. */
async function until(probe: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await probe());) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100)); // polling interval, not a stand-in for an event
  }
}

const root = process.getuid?.() === 0;

async function main(): Promise<void> {
  const stack = await startTestStack();
  const app = await startComponent(stack.config, { redisUrl: stack.redisUrl, log: pino({ level: "warn" }), webPort: 0 });
  const home = mkdtempSync(join(tmpdir(), "switchboard-gajim-"));
  let display = 90;
  while (existsSync(`/tmp/.X11-unix/X${display}`)) display++;
  const env = {
    ...process.env, DISPLAY: `:${display}`, HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_DATA_HOME: join(home, "data"),
    XDG_CACHE_HOME: join(home, "cache"), XDG_RUNTIME_DIR: join(home, "run"), NO_AT_BRIDGE: "1",
  };
  const children: ChildProcess[] = [];
  const gajim = () => {
    const command = root ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "dbus-run-session", "--", "gajim"] : ["dbus-run-session", "--", "gajim"];
    const child = spawn(command[0]!, command.slice(1), { env, stdio: "ignore", detached: true }); // its own group: stopped with its bus
    children.push(child);
    return child;
  };
  const stopGroup = (child: ChildProcess) => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone already */ } };
  const xdotool = (...args: string[]) => run("xdotool", args, { env });
  const shot = (name: string) => run("import", ["-window", "root", "-crop", `${WINDOW.width}x${WINDOW.height}+0+0`, join(OUT, name)], { env });
  try {
    children.push(spawn("Xvfb", [`:${display}`, "-screen", "0", "1280x800x24", "-nolisten", "tcp"], { stdio: "ignore" }));
    await until(() => existsSync(`/tmp/.X11-unix/X${display}`), "Xvfb's display");
    if (root) chownSync(home, NOBODY, NOBODY);

    // Gajim's first start creates its settings (and shows its Add Account window); then Alice's account
    // goes in: the test stack's Prosody on plain TCP, as its tests log in.
    const settings = join(home, "config", "gajim", "settings.sqlite");
    const first = gajim();
    await until(async () => existsSync(settings) && (await xdotool("search", "--name", "Add Account").then(() => true, () => false)), "Gajim's first start");
    stopGroup(first);
    await new Promise((r) => first.once("exit", r));
    const db = new Database(settings);
    const workspace = Object.keys(JSON.parse((db.prepare("SELECT settings FROM settings WHERE name = 'workspaces'").get() as { settings: string }).settings))[0];
    db.prepare("UPDATE settings SET settings = ? WHERE name = 'app'").run(JSON.stringify({
      is_window_visible: true, use_keyring: false, check_for_update: false, show_help_start_chat: false, mainwin_width: WINDOW.width, mainwin_height: WINDOW.height,
    }));
    const alice = stack.config.agents.find((a) => a.jid === "alice@acme.test")!;
    db.prepare("INSERT INTO account_settings(account, settings) VALUES (?, ?)").run("alice", JSON.stringify({
      account: {
        name: "alice", hostname: "acme.test", password: alice.password, savepass: true, active: true, resource: "gajim", account_label: "Alice",
        use_custom_host: true, custom_host: "127.0.0.1", custom_port: stack.config.ports.c2s, custom_type: "PLAIN", use_plain_connection: true,
        confirm_unencrypted_connection: false, default_workspace: workspace, request_user_data: false,
      },
      contact: {}, group_chat: {},
    }));
    db.close();

    gajim();
    await until(async () => (await app.cti.agent(alice.jid))?.state === "ready", "Alice ready in Gajim");
    const logs = join(home, "data", "gajim", "logs.db");
    const stored = (text: string) => until(() => {
      if (!existsSync(logs)) return false;
      const log = new Database(logs, { readonly: true, fileMustExist: true });
      try { return log.prepare("SELECT 1 FROM logs WHERE message LIKE ?").get(`%${text}%`) !== undefined; } finally { log.close(); }
    }, `Gajim stored "${text}"`);

    const carol = await profanity(stack.config, "carol@acme.test", stack.config.customers.find((c) => c.jid === "carol@acme.test")!.password);
    try {
      await carol.type("/msg billing@cc.acme.test Hi, I have a question about invoice 42");
      await carol.waitFor(/Alice will help you now/);
      await carol.type("/msg alice@acme.test Hello Alice! Invoice 42 shows a late fee, but I paid on time.");
      await stored("I paid on time");
      // The conversations, newest first: Carol's, then the component's (the beginning message).
      await xdotool("mousemove", "240", "166", "click", "1");
      await xdotool("type", "--delay", "20", "Hi Carol, I am looking at invoice 42 now: the late fee was added by mistake. I have removed it.");
      await xdotool("key", "Return");
      await carol.waitFor(/alice@acme\.test\/gajim: Hi Carol/);
      await carol.type("Thank you, that was quick!");
      await stored("that was quick");
      await new Promise((r) => setTimeout(r, 500)); // Gajim draws what it stored: no event tells when
      await shot("gajim-agent-chat.png");

      await xdotool("mousemove", "240", "213", "click", "1");
      await xdotool("type", "--delay", "30", "end");
      await xdotool("key", "Return");
      await carol.type("/msg billing@cc.acme.test"); // the closing message comes in the queue's conversation
      await carol.waitFor(/Alice has ended the chat/);
      await stored("You ended the chat");
      await new Promise((r) => setTimeout(r, 500)); // as above
      await shot("gajim-agent-end.png");

      // Carol's side: her conversation with the queue, in profanity in an xterm (tmux fits it to the xterm).
      const xterm = spawn("xterm", ["-geometry", "104x16+0+0", "-fa", "DejaVu Sans Mono", "-fs", "11", "-T", "carol-profanity", "-e", ...carol.attach], { env, stdio: "ignore" });
      children.push(xterm);
      let id = "";
      await until(async () => { id = (await xdotool("search", "--name", "carol-profanity").catch(() => ({ stdout: "" }))).stdout.trim(); return id !== ""; }, "the xterm");
      await carol.waitFor(/Alice has ended the chat/); // drawn again at the xterm's size
      await new Promise((r) => setTimeout(r, 500)); // the xterm draws what tmux sent: no event tells when
      await run("import", ["-window", id.split("\n")[0]!, join(OUT, "profanity-customer-end.png")], { env });
    } finally {
      await carol.stop();
    }
  } finally {
    for (const child of children.reverse()) { if (child.spawnfile === "Xvfb" || child.spawnfile === "xterm") child.kill(); else stopGroup(child); }
    await app.stop();
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(() => console.log(`gajim-screenshots: wrote gajim-agent-chat.png, gajim-agent-end.png and profanity-customer-end.png in ${OUT}`), (err) => {
  console.error(err);
  process.exit(1);
});
