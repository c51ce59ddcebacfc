/**
 * The customer chat page (/chat/?queue=NAME[&embed=1]): loads /web-config.json,
 * builds the queue's pre-chat form, and wires the page's controls to
 * CustomerSession. ?embed=1 is the widget's iframe: full-frame layout, and
 * Escape asks the embedding page to close the panel.
 */
import { BoardPanel } from "../lib/board.js";
import { loadWebConfig, pickQueue, takesCalls, takesChats, type QueueInfo } from "../lib/config.js";
import { splitJid } from "../lib/connect.js";
import { el } from "../lib/text.js";
import { JOIN_FIELDS } from "../../protocol/names.js";
import { CustomerSession, type Account } from "./session.js";
import { EMBED_MESSAGES, initStorage, loadState } from "./state.js";
import { $, View } from "./view.js";

const params = new URLSearchParams(location.search);
const embedded = params.get("embed") === "1";
if (embedded) {
  document.documentElement.classList.add("embed");
  addEventListener("keydown", (e) => {
    if (e.key === "Escape" && parent !== window) parent.postMessage({ type: EMBED_MESSAGES.close }, "*");
  });
}

async function main(): Promise<void> {
  let queue: QueueInfo | undefined;
  let config;
  try {
    config = await loadWebConfig();
    queue = pickQueue(config, params.get("queue"));
    if (!queue) throw new Error("No queue is configured.");
  } catch (err) {
    new View({ name: "", title: "", jid: "", fields: [] }).showLoading(`The chat is not available right now: ${(err as Error).message}`);
    return;
  }
  const callable = takesCalls(config, queue);
  const chattable = takesChats(queue) || !callable; // a queue that takes neither still shows its form (the server says why)
  document.title = `${chattable ? "Chat with us" : "Call us"}: ${queue.title}`;
  await initStorage(embedded);

  const session = new CustomerSession(config, queue, loadState(queue.name));
  const view = new View(queue, callable, chattable);
  session.onChange = () => view.render(session);
  buildExtraFields(queue, session.state.form);
  buildScale();
  prefill(session.state.form);
  wire(session, chattable);
  wireBoard(session);
  view.render(session);
  if (embedded) {
    // The widget focuses its iframe when opened: put the focus on the first control, not the page.
    addEventListener("focus", () => { if (document.activeElement === document.body) view.focusCurrent(); });
    if (document.hasFocus() && document.activeElement === document.body) view.focusCurrent();
  }
  await session.restore();
}

/** The queue's extra pre-chat fields from web-config, labelled, `required` where configured. */
function buildExtraFields(queue: QueueInfo, saved: Record<string, string> | undefined): void {
  const box = $("extra-fields");
  for (const f of queue.fields) {
    if (f.var === JOIN_FIELDS.name || f.var === JOIN_FIELDS.subject) continue;
    const id = `x-${f.var}`;
    const input = el("input", { id, name: f.var, "data-extra": "1", maxlength: "1000", required: f.required });
    input.value = saved?.[f.var] ?? "";
    const label = el("label", { for: id }, f.label, " ",
      f.required ? el("span", { class: "req", "aria-hidden": "true" }, "*") : el("span", { class: "opt" }, "(optional)"));
    box.append(el("div", { class: "field" }, label, input));
  }
}

/** Five radios whose accessible names are exactly "1".."5". */
function buildScale(): void {
  const scale = $("scale");
  for (let n = 1; n <= 5; n++) {
    const id = `score-${n}`;
    // The (transparent) radio covers its label, so a click anywhere on the choice is a click on the radio.
    scale.append(el("div", { class: "choice" }, el("input", { type: "radio", name: "score", id, value: String(n) }), el("label", { for: id }, String(n))));
  }
}

function prefill(form: Record<string, string> | undefined): void {
  if (!form) return;
  $<HTMLInputElement>("f-name").value = form[JOIN_FIELDS.name] ?? "";
  $<HTMLInputElement>("f-subject").value = form[JOIN_FIELDS.subject] ?? "";
  $<HTMLInputElement>("m-name").value = form[JOIN_FIELDS.name] ?? "";
}

function wire(session: CustomerSession, chattable: boolean): void {
  const prechat = $<HTMLFormElement>("prechat-form");
  prechat.addEventListener("submit", (e) => {
    e.preventDefault();
    // "Call us" and "Video call" are more submit buttons (the form's checks apply to all); Enter in a field starts a chat
    // where the queue takes chats, else the call.
    const submitter = (e as SubmitEvent).submitter?.id;
    const wantsCall = submitter === "call" || submitter === "video-call" || !chattable;
    if (!prechat.reportValidity()) return;
    const fields: Record<string, string> = {
      [JOIN_FIELDS.name]: $<HTMLInputElement>("f-name").value.trim(),
      [JOIN_FIELDS.subject]: $<HTMLInputElement>("f-subject").value.trim(),
    };
    for (const input of prechat.querySelectorAll<HTMLInputElement>("input[data-extra]")) fields[input.name] = input.value.trim();
    const jidInput = $<HTMLInputElement>("f-jid");
    const password = $<HTMLInputElement>("f-password").value;
    let account: Account | undefined;
    jidInput.setCustomValidity("");
    if (jidInput.value.trim()) {
      const parts = splitJid(jidInput.value);
      if (!parts) {
        jidInput.setCustomValidity("Enter your account as user@domain.");
        jidInput.reportValidity();
        return;
      }
      account = { username: parts.local, domain: parts.domain, password };
    }
    if (wantsCall) void session.startCall(fields, account, $<HTMLAudioElement>("remote-audio"), submitter === "video-call");
    else void session.start(fields, account);
  });
  $("f-jid").addEventListener("input", (e) => (e.target as HTMLInputElement).setCustomValidity(""));
  // Required fields: the browser's own validation (reportValidity) names the first missing one.

  $("leave-queue").addEventListener("click", () => void session.leaveQueue());
  $("hang-up").addEventListener("click", () => session.hangUp());
  $("mute").addEventListener("click", () => session.toggleMute());
  $("call-screen").addEventListener("click", () => void session.toggleScreen());
  $("call-back").addEventListener("click", () => void session.reset());
  $("end-chat").addEventListener("click", () => void session.endChat());
  const chatAudio = $<HTMLAudioElement>("chat-call-audio");
  $("chat-call-start").addEventListener("click", () => void session.callFromChat(chatAudio));
  $("chat-video-start").addEventListener("click", () => void session.callFromChat(chatAudio, true));
  $("call-accept").addEventListener("click", () => void session.acceptCall(chatAudio));
  $("call-decline").addEventListener("click", () => session.declineCall());
  $("chat-call-hang-up").addEventListener("click", () => session.hangUpChatCall());
  $("chat-call-mute").addEventListener("click", () => session.toggleChatCallMute());
  $("chat-call-screen").addEventListener("click", () => void session.toggleChatScreen());

  wireAttach(session);

  const box = $<HTMLTextAreaElement>("message");
  const grow = () => {
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight + 2, 140)}px`;
  };
  const composer = $<HTMLFormElement>("composer");
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = box.value;
    if (!text.trim()) return;
    if (session.send(text)) {
      box.value = "";
      grow();
    }
    box.focus();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  box.addEventListener("input", () => {
    grow();
    session.typed(box.value.trim().length > 0);
  });

  const ratingForm = $<HTMLFormElement>("rating-form");
  const ratingError = $("rating-error");
  ratingForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const picked = ratingForm.querySelector<HTMLInputElement>("input[name=score]:checked");
    if (!picked) {
      ratingError.textContent = "Please choose a score from 1 (poor) to 5 (excellent).";
      ratingError.hidden = false;
      $("score-1").focus();
      return;
    }
    ratingError.hidden = true;
    const error = await session.rate(Number(picked.value), $<HTMLTextAreaElement>("f-comment").value);
    if (error) {
      ratingError.textContent = error;
      ratingError.hidden = false;
    } else {
      $("thanks").setAttribute("tabindex", "-1");
      $("thanks").focus();
    }
  });
  $("new-chat").addEventListener("click", () => {
    ratingForm.reset();
    void session.reset();
  });

  const messageForm = $<HTMLFormElement>("message-form");
  const messageError = $("message-error");
  messageForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!messageForm.reportValidity()) return;
    messageError.hidden = true;
    const error = await session.leaveMessage({
      name: $<HTMLInputElement>("m-name").value.trim(),
      email: $<HTMLInputElement>("m-email").value.trim(),
      message: $<HTMLTextAreaElement>("m-message").value.trim(),
    });
    if (error) {
      messageError.textContent = error;
      messageError.hidden = false;
    } else {
      messageForm.reset();
      $("message-sent").setAttribute("tabindex", "-1");
      $("message-sent").focus();
    }
  });
  $("try-again").addEventListener("click", () => void session.reset());
}

/** The whiteboard: the toggle in the agent bar opens the panel above the conversation; the agent's strokes open it too. */
function wireBoard(session: CustomerSession): void {
  const board = new BoardPanel({ label: "Whiteboard shared with the agent", send: (ops) => void session.sendBoard(ops) });
  $("board-slot").append(board.root);
  const toggle = $("board-toggle");
  const pressed = () => toggle.setAttribute("aria-pressed", String(board.opened));
  toggle.addEventListener("click", () => { board.toggle(); pressed(); });
  board.root.querySelector(".board-close")?.addEventListener("click", pressed);
  session.onBoard = (ops) => { board.receive(ops); pressed(); };
  session.onBoardRefused = (text) => board.refused(text);
  // A new session starts with an empty board; an ended one keeps its picture, with drawing off.
  let shown = session.state.session;
  const render = session.onChange;
  session.onChange = () => {
    render();
    if (session.state.session !== shown) {
      shown = session.state.session;
      board.reset();
      pressed();
    }
    if (session.state.phase === "chatting") board.enable();
    else board.disable();
  };
}

/** The attach button (issue 15): shown when the contact center shares files; picks a file and sends it. */
function wireAttach(session: CustomerSession): void {
  const input = $<HTMLInputElement>("attach-file");
  const button = $<HTMLButtonElement>("attach");
  if (!session.sharesFiles) return;
  button.hidden = false;
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    for (const file of Array.from(input.files ?? []).slice(0, 1)) void session.sendFile(file);
    input.value = "";
  });
}

void main();
