/**
 * Random bytes for ids and tokens, drawn from a pool that one call to the system's generator fills 4 KiB
 * at a time (as node's randomUUID does): a join draws twice, and a call to OpenSSL per draw showed in its
 * profile. The bytes are the same generator's; drawing them ahead changes nothing of their quality.
 */
import { randomBytes } from "node:crypto";

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

export function randomHex(bytes: number): string {
  return draw(bytes).toString("hex");
}

export function randomBase64Url(bytes: number): string {
  return draw(bytes).toString("base64url");
}

function draw(bytes: number): Buffer {
  if (used + bytes > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, bytes));
    used = 0;
  }
  used += bytes;
  return pool.subarray(used - bytes, used);
}
