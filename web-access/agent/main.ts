/**
 * The agent desk (/agent/): sign in with the agent's XMPP account, then the
 * desk. Bundled by launcher/build-web.ts into dist/web/agent/app.js.
 */
import { loadWebConfig, type WebConfig } from "../lib/config.js";
import { SignInError, signIn } from "./connection.js";
import { Desk } from "./desk.js";
import { fill, h } from "./dom.js";

const app = document.getElementById("app")!;

function signInScreen(config: WebConfig, lastAddress = ""): void {
  document.title = "Sign in · Agent desk · Switchboard";
  const address = h("input", { id: "signin-jid", attrs: { type: "text", name: "username", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "off", placeholder: `alice@${config.domain}`, "aria-describedby": "signin-jid-hint" } });
  address.value = lastAddress;
  const password = h("input", { id: "signin-password", attrs: { type: "password", name: "password", autocomplete: "current-password", required: true } });
  const error = h("p", { class: "form-error", id: "signin-error", attrs: { role: "alert" } });
  const button = h("button", { class: "btn btn-primary btn-block", text: "Sign in", attrs: { type: "submit" } });
  const form = h("form", { class: "signin-card", attrs: { "aria-labelledby": "signin-title", novalidate: true } },
    h("div", { class: "brand brand-large" }, h("span", { class: "logo", attrs: { "aria-hidden": "true" } }, "SB"), h("span", {}, h("strong", { text: "Switchboard" }), h("span", { class: "brand-sub", text: "Agent desk" }))),
    h("h1", { id: "signin-title", text: "Sign in" }),
    h("p", { class: "lead", text: config.sip ? "Use your agent account to take customer chats and calls." : "Use your agent account to take customer chats." }),
    h("div", { class: "field" },
      h("label", { text: "JID", attrs: { for: "signin-jid" } }), address,
      h("p", { class: "field-hint", id: "signin-jid-hint", text: `Your agent address, such as alice@${config.domain}` })),
    h("div", { class: "field" }, h("label", { text: "Password", attrs: { for: "signin-password" } }), password),
    error, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    button.disabled = true;
    button.textContent = "Signing in…";
    form.setAttribute("aria-busy", "true");
    try {
      const xmpp = await signIn(config, address.value, password.value);
      // The password also signs the desk's softphone in (sip:<user>@<domain>, same account), when calls are on.
      const desk = new Desk(xmpp, config, () => signInScreen(config, address.value), password.value);
      fill(app, desk.root);
      await desk.start();
    } catch (err) {
      error.textContent = err instanceof SignInError ? err.message : `Sign-in failed: ${(err as Error).message}`;
      button.disabled = false;
      button.textContent = "Sign in";
      form.removeAttribute("aria-busy");
      const field = err instanceof SignInError && err.kind === "auth" ? password : address;
      if (err instanceof SignInError && err.kind === "auth") password.select();
      field.focus();
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
      h("h1", { text: "The desk cannot start" }),
      h("p", { text: `Loading the configuration failed: ${(err as Error).message}. Reload the page to try again.` }))));
  }
}

void boot();
