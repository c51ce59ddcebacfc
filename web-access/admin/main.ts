/**
 * The supervisor console (/admin/): sign in with a supervisor's XMPP account
 * (as the desk signs agents in), optionally with an admin API token for the
 * parts served over HTTP, or with an admin API token alone (no XMPP account:
 * everything over HTTP, no monitoring); then the console. Bundled by
 * launcher/build-web.ts into dist/web/admin/app.js.
 */
import { fill, h } from "../agent/dom.js";
import { SignInError, signIn } from "../agent/connection.js";
import { loadWebConfig, type WebConfig } from "../lib/config.js";
import { ApiBackend } from "./api-backend.js";
import { ApiError, getJson, savedToken, saveToken } from "./api.js";
import { Console } from "./console.js";
import { Supervisor } from "./supervisor.js";

const app = document.getElementById("app")!;

/** The desk's sign-in messages speak of agents (alice@...): here they are about supervisors. */
const supervisorWording = (message: string) => message
  .replace("an agent address", "a supervisor address").replace("agent address", "supervisor address")
  .replace("Agents sign in", "Supervisors sign in").replace(/\balice@/g, "sam@");

/** A token alone must be known and able to read (GET /api/agents), or the sign-in says why not. */
async function checkToken(token: string): Promise<void> {
  try {
    await getJson("agents", token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw new ApiError(401, "The admin API token was not accepted: check it, or sign in with your address and password.");
    if (err instanceof ApiError && err.status === 403) throw new ApiError(403, "This admin API token may not read the agents (it lacks the read scope).");
    throw err;
  }
}

function signInScreen(config: WebConfig, lastAddress = "", message = ""): void {
  document.title = "Sign in · Supervisor console · Switchboard";
  const address = h("input", { id: "signin-jid", attrs: { type: "text", name: "username", autocomplete: "username", spellcheck: "false", autocapitalize: "off", placeholder: `sam@${config.domain}` } });
  address.value = lastAddress;
  const password = h("input", { id: "signin-password", attrs: { type: "password", name: "password", autocomplete: "current-password" } });
  const token = h("input", { id: "signin-token", attrs: { type: "password", name: "token", autocomplete: "off", "aria-describedby": "signin-token-hint" } });
  token.value = savedToken();
  const error = h("p", { class: "form-error", id: "signin-error", attrs: { role: "alert" }, text: message });
  const button = h("button", { class: "btn btn-primary btn-block", text: "Sign in", attrs: { type: "submit" } });
  const form = h("form", { class: "signin-card", attrs: { "aria-labelledby": "signin-title", novalidate: true } },
    h("div", { class: "brand brand-large" }, h("span", { class: "logo", attrs: { "aria-hidden": "true" } }, "SB"), h("span", {}, h("strong", { text: "Switchboard" }), h("span", { class: "brand-sub", text: "Supervisor console" }))),
    h("h1", { id: "signin-title", text: "Sign in" }),
    h("p", { class: "lead", text: "Use your supervisor account to watch the queues, steer agents and monitor chats, or an admin API token alone (everything but monitoring)." }),
    h("div", { class: "field" }, h("label", { text: "JID", attrs: { for: "signin-jid" } }), address),
    h("div", { class: "field" }, h("label", { text: "Password", attrs: { for: "signin-password" } }), password),
    h("div", { class: "field" }, h("label", { text: "Admin API token (optional)", attrs: { for: "signin-token" } }), token,
      h("p", { class: "field-hint", id: "signin-token-hint", text: "With an account: for the history and the audit log. Alone (no JID, no password): sign in with the token only; monitoring then needs an account. Kept for this tab only." })),
    error, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    button.disabled = true;
    button.textContent = "Signing in…";
    const secret = token.value.trim();
    try {
      let console: Console;
      const back = (msg?: string) => signInScreen(config, address.value, msg);
      if (secret && !address.value.trim() && !password.value) {
        await checkToken(secret);
        saveToken(secret);
        console = new Console(new ApiBackend(secret), secret, true, back);
      } else {
        const xmpp = await signIn(config, address.value, password.value);
        saveToken(secret);
        console = new Console(new Supervisor(xmpp, config.componentDomain), secret, false, back);
      }
      document.title = "Supervisor console · Switchboard";
      fill(app, console.root);
      await console.start();
    } catch (err) {
      // Nothing given at all: the other way in is the token alone.
      const orToken = err instanceof SignInError && err.kind === "input" && !address.value.trim() && !secret ? " Or sign in with an admin API token alone." : "";
      error.textContent = err instanceof SignInError ? supervisorWording(err.message) + orToken
        : err instanceof ApiError ? err.message : `Sign-in failed: ${(err as Error).message}`;
      button.disabled = false;
      button.textContent = "Sign in";
      (err instanceof ApiError ? token : err instanceof SignInError && err.kind === "auth" ? password : address).focus();
    }
  });
  fill(app, h("main", { class: "signin" }, form));
  (lastAddress ? password : address).focus();
}

async function boot(): Promise<void> {
  try {
    signInScreen(await loadWebConfig());
  } catch (err) {
    fill(app, h("main", { class: "signin" }, h("div", { class: "signin-card", attrs: { role: "alert" } },
      h("h1", { text: "The console cannot start" }),
      h("p", { text: `Loading the configuration failed: ${(err as Error).message}. Reload the page to try again.` }))));
  }
}

void boot();
