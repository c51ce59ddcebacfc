/** Signing an agent in: web-access/lib's connect() with the agent's account, and messages an agent understands. */
import type { Client } from "@xmpp/client";
import type { WebConfig } from "../lib/config.js";
import { connect, errorCondition, randomId } from "../lib/connect.js";

export class SignInError extends Error {
  constructor(message: string, readonly kind: "input" | "auth" | "network") {
    super(message);
  }
}

/** "alice" or "alice@acme.test" -> the local part, checking the domain. */
export function usernameOf(address: string, domain: string): string {
  const a = address.trim().toLowerCase();
  if (!a) throw new SignInError(`Enter your agent address, such as alice@${domain}.`, "input");
  const [local, host, ...rest] = a.split("@");
  if (rest.length || !local || /[\s/"&'<>:]/.test(local)) throw new SignInError(`"${address.trim()}" is not an agent address such as alice@${domain}.`, "input");
  if (host !== undefined && host !== domain) throw new SignInError(`Agents sign in with an address on ${domain}.`, "input");
  return local;
}

/**
 * Logs in (PLAIN over the WebSocket). Reconnection stays off until the desk
 * is up (Desk.start), so a wrong password is not retried forever.
 */
export async function signIn(config: WebConfig, address: string, password: string, timeoutMs = 20000): Promise<Client> {
  const username = usernameOf(address, config.domain);
  if (!password) throw new SignInError("Enter your password.", "input");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      connect({ websocketUrl: config.websocketUrl, domain: config.domain, username, password, resource: `desk-${randomId(4)}` }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error("timeout")), timeoutMs); }),
    ]);
  } catch (err) {
    const e = err as Error;
    const condition = errorCondition(err);
    if (e.name === "SASLError" || condition === "not-authorized") throw new SignInError("Wrong address or password.", "auth");
    if (condition === "account-disabled") throw new SignInError("This account is disabled.", "auth");
    throw new SignInError(`Cannot reach the chat server at ${config.websocketUrl}${e.message === "timeout" ? " (no answer)" : ""}.`, "network");
  } finally {
    clearTimeout(timer);
  }
}
