/**
 * The embeddable chat widget (/widget.js). On any site:
 *
 *   <script src="https://chat.example.com/widget.js" data-queue="billing" async></script>
 *
 * Optional attributes: data-label (the launcher's text, default "Chat with us"),
 * data-position ("right" default, or "left"), data-color (a CSS colour for the launcher).
 *
 * It adds a launcher button that opens a panel holding an iframe of
 * /chat/?queue=...&embed=1 from the widget's own origin (taken from this
 * script's src), so the host page's CSS cannot reach the chat and the chat
 * code is the customer page's. The launcher and panel live in a shadow root,
 * so the widget's styles cannot leak into the page either. Whether the panel
 * is open survives a reload of the host page (sessionStorage); the chat
 * itself survives too: the iframe's page keeps its own state, or, where the
 * browser denies a cross-site iframe its storage, hands it to the widget to
 * keep in this page's sessionStorage.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script?.src) return;
  const w = window as Window & { __switchboardWidget?: boolean };
  if (w.__switchboardWidget) return; // included twice
  w.__switchboardWidget = true;

  const origin = new URL(script.src).origin;
  const base = new URL(".", script.src); // the folder widget.js is served from
  const queue = script.dataset.queue ?? "";
  const label = script.dataset.label || "Chat with us";
  const left = script.dataset.position === "left";
  const color = script.dataset.color && CSS.supports("color", script.dataset.color) ? script.dataset.color : "#4f46e5";
  const storeKey = `switchboard-widget-open:${origin}:${queue}`;

  const chatUrl = new URL("chat/", base);
  if (queue) chatUrl.searchParams.set("queue", queue);
  chatUrl.searchParams.set("embed", "1");

  const host = document.createElement("div");
  host.setAttribute("data-switchboard-widget", "");
  host.style.setProperty("all", "initial", "important"); // an inline !important beats the page's own rules for div
  const root = host.attachShadow({ mode: "open" });

  const style = document.createElement("style");
  style.textContent = `
    :host { all: initial; }
    .launcher {
      position: fixed; bottom: 20px; ${left ? "left" : "right"}: 20px; z-index: 2147483000;
      display: inline-flex; align-items: center; gap: 8px;
      font: 600 15px/1 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
      color: #fff; background: ${color}; border: 0; border-radius: 999px;
      padding: 14px 20px; cursor: pointer;
      box-shadow: 0 8px 24px rgba(20, 20, 60, 0.25);
    }
    .launcher:hover { filter: brightness(1.08); }
    .launcher:focus-visible { outline: 3px solid #f59e0b; outline-offset: 3px; }
    .launcher svg { width: 20px; height: 20px; flex: none; }
    .panel {
      position: fixed; bottom: 84px; ${left ? "left" : "right"}: 20px; z-index: 2147483000;
      width: 380px; height: min(620px, calc(100vh - 110px));
      border-radius: 16px; overflow: hidden; background: #fff;
      box-shadow: 0 16px 48px rgba(20, 20, 60, 0.3);
    }
    .panel[hidden] { display: none; }
    iframe { border: 0; width: 100%; height: 100%; display: block; }
    @media (max-width: 480px) {
      .panel { inset: 0 0 76px 0; width: auto; height: auto; border-radius: 0; }
    }
  `;

  const button = document.createElement("button");
  button.type = "button";
  button.className = "launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "switchboard-panel");
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("fill", "currentColor");
  icon.append(path);
  const text = document.createElement("span");
  button.append(icon, text);

  const panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "switchboard-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", label);

  let frame: HTMLIFrameElement | undefined;
  const CHAT_ICON = "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v9a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A2.5 2.5 0 0 1 3 14.5z";
  const CLOSE_ICON = "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z";

  function setOpen(open: boolean, focus: boolean): void {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = chatUrl.href;
      frame.title = label;
      // microphone and autoplay: "Call us" in the chat page (a cross-origin frame gets neither unless allowed).
      frame.setAttribute("allow", "clipboard-write; microphone; autoplay");
      panel.append(frame);
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    text.textContent = open ? "Close chat" : label;
    path.setAttribute("d", open ? CLOSE_ICON : CHAT_ICON);
    try {
      if (open) sessionStorage.setItem(storeKey, "1");
      else sessionStorage.removeItem(storeKey);
    } catch {
      // storage unavailable: the panel just starts closed next time
    }
    if (focus) (open ? frame! : button).focus();
  }

  button.addEventListener("click", () => setOpen(panel.hidden, true));
  // Messages from the chat page in our iframe (web-access/chat/state.ts EMBED_MESSAGES): Escape pressed
  // inside it; and, when the browser denies the iframe its own storage (third-party storage blocked), its
  // state, which we keep in this page's sessionStorage and hand back when it loads again.
  const statePrefix = `switchboard-chat:${origin}:`;
  addEventListener("message", (e: MessageEvent) => {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    const d = e.data as { type?: string; key?: unknown; value?: unknown } | null;
    if (d?.type === "switchboard:close") setOpen(false, true);
    else if (d?.type === "switchboard:hello") {
      const entries: Record<string, string> = {};
      try {
        for (let i = 0; i < sessionStorage.length; i++) {
          const k = sessionStorage.key(i);
          if (k?.startsWith(statePrefix)) entries[k.slice(statePrefix.length)] = sessionStorage.getItem(k) ?? "";
        }
      } catch {
        // no storage here either: the chat starts empty
      }
      frame.contentWindow?.postMessage({ type: "switchboard:state", entries }, origin);
    } else if (d?.type === "switchboard:save" && typeof d.key === "string" && typeof d.value === "string") {
      try {
        sessionStorage.setItem(statePrefix + d.key, d.value);
      } catch {
        // storage full or denied: the chat just will not survive a reload
      }
    }
  });
  root.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Escape" && !panel.hidden) setOpen(false, true);
  });

  root.append(style, button, panel);
  let open = false;
  try {
    open = sessionStorage.getItem(storeKey) === "1";
  } catch {
    // ignore
  }
  setOpen(open, false);
  const attach = () => document.body.append(host);
  if (document.body) attach();
  else addEventListener("DOMContentLoaded", attach);
})();
