/**
 * XEP-0142 offers standing on the desk: one card per customer offered (several
 * at once on a ring-all queue), with the queue, the customer's form, a
 * countdown and Accept / Reject. Knows nothing of XMPP: the desk answers.
 */
import { h, nextUid } from "./dom.js";
import { duration } from "./text.js";

export interface OfferCard {
  queue: string;
  queueTitle: string;
  customer: string;
  session: string;
  name: string;
  fields: Array<{ label: string; value: string }>;
  timeout: number;
}

/** A card whose offer the server never revoked (e.g. the customer left) goes this long after its countdown. */
const LAPSE_MS = 5000;

interface Shown { offer: OfferCard; el: HTMLElement; timer: HTMLElement; accept: HTMLButtonElement; until: number }

export class Offers {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private shown: Shown[] = [];

  constructor(private readonly onAnswer: (offer: OfferCard, accept: boolean) => void) {
    const titleId = nextUid("offers");
    this.list = h("div", { class: "offer-list" });
    this.root = h("section", { class: "offers", hidden: true, attrs: { "aria-labelledby": titleId } },
      h("h2", { id: titleId, class: "offers-title", text: "Customers offered to you" }), this.list);
  }

  /** Shows an offer (replacing one for the same customer and queue). */
  add(offer: OfferCard, now = Date.now()): void {
    this.remove((o) => o.queue === offer.queue && o.customer === offer.customer);
    const nameId = nextUid("offer");
    const timer = h("p", { class: "offer-timer", attrs: { role: "timer" } });
    const accept = h("button", { class: "btn btn-accept", text: "Accept", attrs: { type: "button" } });
    const reject = h("button", { class: "btn", text: "Reject", attrs: { type: "button" } });
    const facts = h("dl", { class: "facts" },
      ...offer.fields.map((f) => h("div", { class: "fact" }, h("dt", { text: f.label }), h("dd", { text: f.value }))));
    const el = h("article", { class: "offer", attrs: { "aria-labelledby": nameId } },
      h("div", { class: "offer-who" },
        h("h3", { id: nameId, text: offer.name }),
        h("p", { class: "offer-queue", text: offer.queueTitle })),
      facts, timer, h("div", { class: "offer-actions" }, accept, reject));
    const shown: Shown = { offer, el, timer, accept, until: now + offer.timeout * 1000 };
    accept.addEventListener("click", () => this.answer(shown, true));
    reject.addEventListener("click", () => this.answer(shown, false));
    this.shown.push(shown);
    this.list.append(el);
    this.root.hidden = false;
    this.tick(now);
  }

  /** Removes the offers `match` picks; returns them. */
  remove(match: (o: OfferCard) => boolean): OfferCard[] {
    const gone = this.shown.filter((s) => match(s.offer));
    this.drop(gone);
    return gone.map((s) => s.offer);
  }

  clear(): void {
    this.drop(this.shown);
  }

  /** Once a second: the countdowns; offers long past theirs go. */
  tick(now: number): void {
    this.drop(this.shown.filter((s) => s.until + LAPSE_MS < now));
    for (const s of this.shown) {
      const left = Math.max(0, Math.ceil((s.until - now) / 1000));
      s.timer.textContent = left ? `${duration(left)} left` : "Time is up";
      s.el.classList.toggle("urgent", left <= 5);
    }
  }

  private drop(gone: Shown[]): void {
    if (!gone.length) return;
    const hadFocus = gone.some((s) => s.el.contains(document.activeElement));
    for (const s of gone) s.el.remove();
    this.shown = this.shown.filter((s) => !gone.includes(s));
    this.root.hidden = this.shown.length === 0;
    if (hadFocus) this.shown[0]?.accept.focus(); // the next offer, if any
  }

  private answer(s: Shown, accept: boolean): void {
    // Gone at once: after a reject the same customer may be offered again before the answer's result.
    this.remove((o) => o === s.offer);
    this.onAnswer(s.offer, accept);
  }
}
