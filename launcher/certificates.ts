/**
 * The demo's certificates (issue 15): a local certificate authority made once in <runDir>/certs/ca.crt,
 * and the domain's certificate (the domain and *.domain: the guest host, the component, the queues) issued
 * by it. A person trusts the authority once (the banner and docs/clients.md say how, per system and client)
 * and every certificate `npm start` makes after is trusted too; a self-signed certificate would have to be
 * accepted again in each client whenever it changes. Production uses real certificates instead
 * (docs/clients.md, "Production").
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface DemoCertificates {
  /** The authority a person trusts: <runDir>/certs/ca.crt. */
  ca: string;
  /** The domain's certificate and key, where Prosody finds them (<runDir>/certs/<domain>.crt, .key). */
  crt: string;
  key: string;
}

/** The paths of the demo's certificates (whether made yet or not). */
export function certificatePaths(runDir: string, domain: string): DemoCertificates {
  const certs = join(resolve(runDir), "certs");
  return { ca: join(certs, "ca.crt"), crt: join(certs, `${domain}.crt`), key: join(certs, `${domain}.key`) };
}

/**
 * Whether the certificate at `crt` stays: one the operator put there (issued by anyone else: a real one),
 * or the demo authority's, for the domain and its subdomains, valid for another day. A missing or
 * unreadable one, a self-signed one (what earlier versions made) or an outdated one of ours is made anew.
 */
function keep(crt: string, ca: string, domain: string): boolean {
  try {
    const leaf = new X509Certificate(readFileSync(crt));
    const authority = new X509Certificate(readFileSync(ca));
    if (leaf.checkIssued(leaf)) return false;
    if (!(leaf.checkIssued(authority) && leaf.verify(authority.publicKey))) return true;
    return !!leaf.checkHost(domain) && !!leaf.checkHost(`sub.${domain}`) && Date.parse(leaf.validTo) > Date.now() + 86_400_000;
  } catch {
    return false;
  }
}

/**
 * Makes the authority unless it exists (kept across runs: it is what people trust), and the domain's
 * certificate unless the one there is to be kept (see keep).
 */
export async function ensureCertificates(runDir: string, domain: string): Promise<DemoCertificates> {
  const paths = certificatePaths(runDir, domain);
  const dir = join(resolve(runDir), "certs");
  const caKey = join(dir, "ca.key");
  mkdirSync(dir, { recursive: true });
  if (!existsSync(paths.ca) || !existsSync(caKey)) {
    await run("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", `/CN=Switchboard demo CA (${domain})`,
      "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      // Only the demo's names: trusting this authority lets it vouch for nothing else.
      "-addext", `nameConstraints=critical,permitted;DNS:${domain},permitted;DNS:.${domain}`,
      "-keyout", caKey, "-out", paths.ca,
    ]);
  }
  if (existsSync(paths.key) && keep(paths.crt, paths.ca, domain)) return paths;
  const csr = join(dir, `${domain}.csr`);
  const ext = join(dir, `${domain}.ext`);
  writeFileSync(ext, [
    "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth,clientAuth", `subjectAltName=DNS:${domain},DNS:*.${domain}`, "",
  ].join("\n"));
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${domain}`, "-keyout", paths.key, "-out", csr]);
  // 397 days: the longest validity browsers and clients accept for a server certificate.
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", paths.ca, "-CAkey", caKey, "-CAcreateserial", "-days", "397", "-extfile", ext, "-out", paths.crt]);
  for (const f of [csr, ext]) rmSync(f, { force: true });
  return paths;
}
