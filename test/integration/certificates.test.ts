/**
 * The demo's certificates (issue 15), made with the real openssl: an authority made once, and the domain's
 * certificate issued by it for the domain and its subdomains (guest host, component), which openssl itself
 * verifies against the authority, by name; the authority vouches for the demo's names only. Made again only
 * when it is not the authority's (an older self-signed one).
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureCertificates } from "../../launcher/certificates.js";

const run = promisify(execFile);
const dirs: string[] = [];
const runDir = () => { const d = mkdtempSync(join(tmpdir(), "sb-certs-")); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** openssl verify of `crt` against `ca` for `name`: its output, or the error's. */
const verify = (ca: string, crt: string, name: string) =>
  run("openssl", ["verify", "-CAfile", ca, "-verify_hostname", name, crt]).then((r) => r.stdout.trim(), (e: { stderr?: string; stdout?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`.trim());

describe("the demo's certificates", () => {
  it("are a certificate for the domain and its subdomains, issued by an authority made for them; openssl verifies each name", async () => {
    const paths = await ensureCertificates(runDir(), "acme.test");
    const [leaf, ca] = [new X509Certificate(readFileSync(paths.crt)), new X509Certificate(readFileSync(paths.ca))];
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    for (const name of ["acme.test", "guest.acme.test", "cc.acme.test"]) expect(await verify(paths.ca, paths.crt, name)).toBe(`${paths.crt}: OK`);
    expect(await verify(paths.ca, paths.crt, "example.com")).toMatch(/hostname mismatch/);
  });

  it("keep the authority and the certificate across starts, replace an older self-signed certificate, and keep one issued by someone else", async () => {
    const dir = runDir();
    const first = await ensureCertificates(dir, "acme.test");
    const fingerprints = () => [first.ca, first.crt].map((f) => new X509Certificate(readFileSync(f)).fingerprint256);
    const before = fingerprints();
    await ensureCertificates(dir, "acme.test");
    expect(fingerprints()).toEqual(before);
    // What earlier versions made: a self-signed certificate in the same place.
    await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=acme.test",
      "-addext", "subjectAltName=DNS:acme.test,DNS:*.acme.test", "-keyout", first.key, "-out", first.crt]);
    await ensureCertificates(dir, "acme.test");
    const after = fingerprints();
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(await verify(first.ca, first.crt, "guest.acme.test")).toBe(`${first.crt}: OK`);

    // A real certificate the operator put there (here: issued by another authority) is left alone.
    const otherCa = join(dir, "other-ca");
    await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=Another CA", "-keyout", `${otherCa}.key`, "-out", `${otherCa}.crt`]);
    await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=acme.test", "-keyout", first.key, "-out", `${otherCa}.csr`]);
    await run("openssl", ["x509", "-req", "-in", `${otherCa}.csr`, "-CA", `${otherCa}.crt`, "-CAkey", `${otherCa}.key`, "-CAcreateserial", "-days", "30", "-out", first.crt]);
    const real = new X509Certificate(readFileSync(first.crt)).fingerprint256;
    await ensureCertificates(dir, "acme.test");
    expect(new X509Certificate(readFileSync(first.crt)).fingerprint256).toBe(real);
  });

  it("an authority that vouches only for the demo's names: a certificate it signed for another name does not verify", async () => {
    const dir = runDir();
    const paths = await ensureCertificates(dir, "acme.test");
    const other = join(dir, "other");
    writeFileSync(`${other}.ext`, "subjectAltName=DNS:bank.example\n");
    await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bank.example", "-keyout", `${other}.key`, "-out", `${other}.csr`]);
    await run("openssl", ["x509", "-req", "-in", `${other}.csr`, "-CA", paths.ca, "-CAkey", join(dir, "certs", "ca.key"), "-CAcreateserial", "-days", "30", "-extfile", `${other}.ext`, "-out", `${other}.crt`]);
    expect(await verify(paths.ca, `${other}.crt`, "bank.example")).toMatch(/permitted subtree violation/);
  });
});
