/**
 * Makes an admin API token: prints it once (give it to whoever will use it) and the config entry that
 * admits it, which keeps only its sha256. Usage: npm run new-token -- <name> [scopes, default read]
 * e.g. npm run new-token -- wallboard read; npm run new-token -- team-lead read,supervise
 */
import { createHash, randomBytes } from "node:crypto";
import { SCOPES, type Scope } from "../component/http/scopes.js";

const [name = "reader", scopeList = "read"] = process.argv.slice(2);
const scopes = scopeList.split(",").map((s) => s.trim()).filter(Boolean);
if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/i.test(name) || name === "admin" || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly string[]).includes(s))) {
  console.error(`usage: npm run new-token -- <name (not "admin")> [${SCOPES.join(",")}]`);
  process.exit(2);
}
const token = randomBytes(32).toString("base64url");
const sha256 = createHash("sha256").update(token).digest("hex");
console.log(`token (shown once; send it as 'Authorization: Bearer <token>'):\n  ${token}\n`);
console.log(`config (admin.tokens):\n  - { name: ${name}, sha256: ${sha256}, scopes: [${(scopes as Scope[]).join(", ")}] }`);
