/**
 * The demo's certificate in real clients (issue 15, points 1.4 and 2): Prosody configured as `npm start`
 * runs it (STARTTLS, PLAIN only after it) with the certificate issued by the demo's authority. profanity,
 * mcabber and poezio that do not know the authority refuse the certificate (profanity asks); once they trust
 * the authority (as docs/clients.md says for each), they log in over TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { validateConfig, type Config } from "../../component/config.js";
import { ensureCertificates } from "../../launcher/certificates.js";
import { freePort } from "../../launcher/ports.js";
import { registerAccount, startProsody, type RunningProsody } from "../../launcher/prosody.js";
import { mcabber, poezio, profanity, startMcabber, startPoezio, startProfanity, type TerminalClient } from "../helpers/tmux-client.js";

const run = promisify(execFile);
const CAROL = { jid: "carol@acme.test", password: "carol-pw" };

let runDir: string;
let config: Config;
let prosody: RunningProsody | undefined;
/** A folder with the demo authority's certificate, hashed as OpenSSL looks certificates up. */
let caPath: string;
/** The demo authority's certificate. */
let caFile: string;
const open: TerminalClient[] = [];

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), "switchboard-tls-"));
  config = validateConfig({
    domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "test-component-secret" },
    ports: { c2s: await freePort(), http: await freePort(), component: await freePort(), redis: await freePort(), web: await freePort() },
    admin: { token: "test-admin-token" }, queues: [{ name: "billing", title: "Billing" }], customers: [CAROL], runDir,
  }, "TLS test config");
  const { ca } = await ensureCertificates(runDir, config.domain);
  caPath = join(runDir, "trusted");
  mkdirSync(caPath);
  caFile = ca;
  copyFileSync(ca, join(caPath, "ca.crt"));
  await run("openssl", ["rehash", caPath]);
  prosody = await startProsody({ config, runDir, insecure: false, logLevel: "warn" }); // as npm start runs it
  await registerAccount(prosody.configFile, CAROL.jid, CAROL.password);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.stop()));
  await prosody?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

describe("the demo's certificate in profanity", () => {
  it("is refused with a question while the authority is unknown, and accepted over TLS once it is trusted", async () => {
    const stranger = await startProfanity(CAROL.jid);
    open.push(stranger);
    await stranger.type(`/connect ${CAROL.jid} server 127.0.0.1 port ${config.ports.c2s} tls force`);
    await stranger.waitFor(/Enter password:/);
    await stranger.type(CAROL.password);
    await stranger.waitFor(/TLS certificate verification failed: unable to get local issuer certificate .*Issuer: .*Common name : Switchboard demo CA \(acme\.test\) .*Use '\/tls allow' to accept this certificate\./);
    expect(await stranger.screen()).not.toMatch(/logged in successfully/);

    const trusting = await profanity(config, CAROL.jid, CAROL.password, { tls: "force", caPath });
    open.push(trusting);
    // Logged in (this Prosody takes PLAIN only over TLS), and profanity reports no plain connection.
    expect(await trusting.screen()).not.toMatch(/TLS connection not established|verification failed/);
  }, 30_000);
});

describe("the demo's certificate in mcabber", () => {
  it("is refused while the authority is unknown, and accepted over STARTTLS with `set ssl_ca`", async () => {
    const stranger = await startMcabber(config, CAROL.jid, CAROL.password, { tls: true });
    open.push(stranger);
    await stranger.waitFor(/Certificate is not trusted! .*Disconnected/);
    expect(await stranger.screen()).not.toMatch(/Connection established/);

    const trusting = await mcabber(config, CAROL.jid, CAROL.password, { tls: true, ca: caFile });
    open.push(trusting);
    expect(await trusting.screen()).toMatch(/Connection established/);
    expect(await trusting.screen()).not.toMatch(/not trusted/);
  }, 30_000);
});

describe("the demo's certificate in poezio", () => {
  it("is refused while the authority is unknown, and accepted over TLS with `ca_cert_path`", async () => {
    const stranger = await startPoezio(config, CAROL.jid, CAROL.password, { tls: true });
    open.push(stranger);
    await stranger.waitFor(/Error> The certificate sent by the server is invalid\./);
    expect(await stranger.screen()).not.toMatch(/Your JID is/);

    const trusting = await poezio(config, CAROL.jid, CAROL.password, { tls: true, ca: caFile });
    open.push(trusting);
    expect(await trusting.screen()).not.toMatch(/invalid/); // logged in: over TLS, as this Prosody takes PLAIN only after it
  }, 30_000);
});
