/**
 * The whiteboard on a page (docs/protocol.md, "Whiteboard"): a canvas panel the customer page and the agent
 * desk both show, and the console's picture of a recorded board. The wire format and its checks are
 * protocol/board.ts; this file only draws, and hands what the user drew to `send`.
 *
 * Coordinates are 0..BOARD.size on both axes of a board whose shape is fixed (4:3), so a stroke lands on
 * the same spot of the picture in any window. A width is in thousandths of the board's width.
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { BOARD, BOARD_FEATURE, decodeBoard, encodeBoard, finalStrokes, splitStroke, validOps, type Board, type BoardElement, type BoardOp, type Stroke } from "../../protocol/board.js";
import { NS, SB } from "../../protocol/names.js";
import { randomId } from "./connect.js";

/** The page answers XEP-0030 disco#info: a web client that shows the board. */
export function announceBoard(xmpp: Client): void {
  xmpp.iqCallee.get(NS.DISCO_INFO, "query", () => xml("query", { xmlns: NS.DISCO_INFO },
    xml("identity", { category: "client", type: "web", name: "Switchboard chat page" }),
    xml("feature", { var: NS.DISCO_INFO }), xml("feature", { var: BOARD_FEATURE })));
}

/** Whether the client at `jid` shows the board (its disco#info names the feature); null when it does not answer in time. */
export async function showsBoard(xmpp: Client, jid: string, timeoutMs = 10_000): Promise<boolean | null> {
  try {
    const info = await xmpp.iqCaller.get(xml("query", { xmlns: NS.DISCO_INFO }), jid, timeoutMs);
    return info.getChildren("feature").some((f) => f.attrs.var === BOARD_FEATURE);
  } catch (err) {
    // An error answer (service-unavailable, feature-not-implemented...) is a client that knows no board; silence is unknown.
    return (err as { name?: string }).name === "StanzaError" ? false : null;
  }
}

/** A board stanza: a chat message without a body (plain clients show nothing of it). */
export function boardMessage(to: string, session: string, ops: BoardOp[], id: string): Element {
  return xml("message", { to, type: "chat", id }, encodeBoard(xml, NS.SB, { session, ops }));
}

/** The board a message carries, checked (null: none, or one that breaks a rule, which is ignored). */
export function boardIn(s: Element): Board | null {
  const b = s.getChild(SB.board, NS.SB);
  return b ? decodeBoard(b as unknown as BoardElement) : null;
}

/** Width : height of every board. */
export const ASPECT = 4 / 3;
/** A point closer than this to the last one adds nothing to see, only bytes to send. */
const MIN_STEP = 15;
const WIDTH = 4;
/** The colors offered (any #rrggbb is valid on the wire). */
export const COLORS: ReadonlyArray<{ name: string; value: string }> = [
  { name: "Black", value: "#1f2937" }, { name: "Blue", value: "#2563eb" }, { name: "Red", value: "#dc2626" },
  { name: "Green", value: "#16a34a" }, { name: "Orange", value: "#ea580c" },
];

export interface BoardPanelOptions {
  /** Names the panel for assistive technology ("Whiteboard with Alice"). */
  label: string;
  /** Sends these operations as one board stanza (at most BOARD.maxOpsPerStanza, all valid). */
  send(ops: BoardOp[]): void;
}

function make<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Draws strokes on a 2D context the size of `w` x `h` pixels. */
export function drawStrokes(ctx: CanvasRenderingContext2D, strokes: Iterable<Stroke>, w: number, h: number): void {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of strokes) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = Math.max(1, (s.width * w) / 1000);
    ctx.beginPath();
    ctx.moveTo((s.points[0]! * w) / BOARD.size, (s.points[1]! * h) / BOARD.size);
    if (s.points.length === 2) ctx.lineTo((s.points[0]! * w) / BOARD.size + 0.01, (s.points[1]! * h) / BOARD.size); // a dot
    for (let i = 2; i + 1 < s.points.length; i += 2) ctx.lineTo((s.points[i]! * w) / BOARD.size, (s.points[i + 1]! * h) / BOARD.size);
    ctx.stroke();
  }
}

/** The panel: colors, Clear, Close and the canvas; what is on it is also in `data-strokes` (JSON), for tests and tools. */
export class BoardPanel {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly status: HTMLElement;
  private readonly swatches: HTMLButtonElement[] = [];
  private strokes: Stroke[] = [];
  private color = COLORS[0]!.value;
  /** The line being drawn (flat points), and its pointer. */
  private drawing: { pointer: number; points: number[]; id: string } | null = null;
  private readonly resize = new ResizeObserver(() => this.redraw());

  constructor(private readonly o: BoardPanelOptions) {
    this.root = make("section", "board");
    this.root.hidden = true;
    this.root.setAttribute("aria-label", o.label);
    this.root.dataset.strokes = "[]";
    const tools = make("div", "board-tools");
    tools.setAttribute("role", "toolbar");
    tools.setAttribute("aria-label", "Whiteboard tools");
    for (const c of COLORS) {
      const b = make("button", "board-swatch");
      b.type = "button";
      b.style.background = c.value;
      b.setAttribute("aria-label", c.name);
      b.setAttribute("aria-pressed", String(c.value === this.color));
      b.dataset.color = c.value;
      b.addEventListener("click", () => this.pick(c.value));
      this.swatches.push(b);
      tools.append(b);
    }
    const clear = make("button", "btn btn-secondary board-clear", "Clear");
    clear.type = "button";
    clear.addEventListener("click", () => this.clearAll());
    const close = make("button", "btn btn-ghost board-close", "Close");
    close.type = "button";
    close.addEventListener("click", () => this.close());
    tools.append(clear, close);
    this.canvas = make("canvas", "board-canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Drawing area: draw with the mouse, a pen or a finger");
    this.status = make("p", "board-status");
    this.status.setAttribute("role", "status");
    this.root.append(tools, this.canvas, this.status);
    this.canvas.addEventListener("pointerdown", (e) => this.down(e));
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerup", (e) => this.up(e));
    this.canvas.addEventListener("pointercancel", (e) => this.up(e));
  }

  get opened(): boolean {
    return !this.root.hidden;
  }

  open(): void {
    if (this.opened) return;
    this.root.hidden = false;
    this.resize.observe(this.canvas);
    this.redraw();
  }

  close(): void {
    this.root.hidden = true;
    this.resize.disconnect();
  }

  toggle(): void {
    if (this.opened) this.close();
    else this.open();
  }

  /** The other side's operations (already decoded and checked): drawn at once, the panel opened. */
  receive(ops: BoardOp[]): void {
    if (!validOps(ops)) return;
    const wiped = ops.some((op) => op.kind === "clear");
    const before = this.strokes.length;
    this.strokes = finalStrokes([...this.strokes.map((s): BoardOp => ({ kind: "stroke", ...s })), ...ops]);
    this.status.textContent = "";
    this.changed();
    if (!this.opened) this.open(); // draws everything
    else if (wiped) this.redraw();
    else this.paint(this.strokes.slice(before)); // only what is new: a full board has up to 2000 strokes
  }

  /** Draws these strokes over what the canvas shows (nothing when the panel is closed: open() redraws). */
  private paint(strokes: Stroke[]): void {
    const ctx = this.opened ? this.canvas.getContext("2d") : null;
    if (ctx) drawStrokes(ctx, strokes, this.canvas.width, this.canvas.height);
  }

  /** A standing note under the board (the customer's client cannot show it). */
  note(text: string): void {
    this.status.textContent = text;
  }

  /** The board stanza with this text was refused (the error's text, never what was sent). */
  refused(text: string): void {
    this.status.textContent = `Not delivered: ${text}`;
  }

  /** The session is over: nothing more can be drawn or sent (the picture stays). */
  disable(): void {
    this.setEnabled(false);
  }

  enable(): void {
    this.setEnabled(true);
  }

  /** Another session: an empty board, closed. */
  reset(): void {
    this.strokes = [];
    this.drawing = null;
    this.status.textContent = "";
    this.close();
    this.changed(); // closed: the next open() redraws
  }

  private setEnabled(on: boolean): void {
    this.root.classList.toggle("board-ended", !on);
    this.canvas.style.pointerEvents = on ? "" : "none";
    if (!on) this.drawing = null;
    for (const b of this.root.querySelectorAll("button")) if (!b.classList.contains("board-close")) b.disabled = !on;
  }

  private pick(color: string): void {
    this.color = color;
    for (const b of this.swatches) b.setAttribute("aria-pressed", String(b.dataset.color === color));
  }

  private clearAll(): void {
    this.strokes = [];
    this.o.send([{ kind: "clear" }]);
    this.changed();
    this.redraw();
  }

  /** The pointer's place in board coordinates. */
  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const clamp = (n: number) => Math.min(BOARD.size, Math.max(0, Math.round(n)));
    return [clamp(((e.clientX - r.left) / (r.width || 1)) * BOARD.size), clamp(((e.clientY - r.top) / (r.height || 1)) * BOARD.size)];
  }

  private down(e: PointerEvent): void {
    if (this.drawing || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId); // the line goes on when the pointer leaves the canvas
    } catch {
      // A pointer the browser no longer tracks (NotFoundError): drawing works without the capture.
    }
    this.drawing = { pointer: e.pointerId, points: this.at(e), id: randomId(8) };
    this.paint([{ id: this.drawing.id, color: this.color, width: WIDTH, points: this.drawing.points }]); // a dot until it moves
  }

  private move(e: PointerEvent): void {
    const d = this.drawing;
    if (!d || d.pointer !== e.pointerId) return;
    const [x, y] = this.at(e);
    const lx = d.points[d.points.length - 2]!, ly = d.points[d.points.length - 1]!;
    if (Math.hypot(x - lx, y - ly) < MIN_STEP) return;
    d.points.push(x, y);
    this.paint([{ id: d.id, color: this.color, width: WIDTH, points: [lx, ly, x, y] }]); // the new piece only
    // A long line goes out in pieces as it is drawn: every stanza stays small, and the other side sees it grow.
    if (d.points.length / 2 >= BOARD.maxPointsPerStroke) {
      this.finish(d.points, d.id);
      this.drawing = { pointer: d.pointer, points: [x, y], id: randomId(8) };
    }
  }

  private up(e: PointerEvent): void {
    const d = this.drawing;
    if (!d || d.pointer !== e.pointerId) return;
    this.drawing = null;
    this.finish(d.points, d.id);
  }

  /** A finished line: on the board, and sent (in stanzas of at most BOARD.maxOpsPerStanza strokes). */
  private finish(points: number[], id: string): void {
    const strokes = splitStroke({ id, color: this.color, width: WIDTH }, points, () => randomId(8));
    if (strokes.length === 0) return;
    this.strokes.push(...strokes);
    for (let i = 0; i < strokes.length; i += BOARD.maxOpsPerStanza)
      this.o.send(strokes.slice(i, i + BOARD.maxOpsPerStanza).map((s): BoardOp => ({ kind: "stroke", ...s })));
    this.status.textContent = "";
    this.changed();
  }

  /** What the board holds changed (drawing is the caller's: a piece, or everything). */
  private changed(): void {
    this.root.dataset.strokes = JSON.stringify(this.strokes);
  }

  private redraw(): void {
    if (!this.opened) return;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const h = Math.max(1, Math.round(w / ASPECT));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, w, h);
    const current = this.drawing && this.drawing.points.length >= 2
      ? [{ id: this.drawing.id, color: this.color, width: WIDTH, points: this.drawing.points }] : [];
    drawStrokes(ctx, [...this.strokes, ...current], w, h);
  }
}

const SVG = "http://www.w3.org/2000/svg";
/** The SVG's own units: BOARD.size wide, and high as the board's shape says. */
const SVG_HEIGHT = Math.round(BOARD.size / ASPECT);

/**
 * A recorded board as an SVG picture (the console's transcript view). Only strokes that keep every rule are
 * drawn, and only numbers and #rrggbb colors reach the attributes: nothing recorded is parsed as markup.
 */
export function boardSvg(strokes: Stroke[], label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${BOARD.size} ${SVG_HEIGHT}`);
  svg.setAttribute("class", "board-picture");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const back = document.createElementNS(SVG, "rect");
  for (const [k, v] of [["width", BOARD.size], ["height", SVG_HEIGHT], ["fill", "#ffffff"]] as const) back.setAttribute(k, String(v));
  svg.append(back);
  for (const s of strokes) {
    if (!validOps([{ kind: "stroke", ...s }])) continue;
    const line = document.createElementNS(SVG, "polyline");
    const pts: string[] = [];
    for (let i = 0; i + 1 < s.points.length; i += 2) pts.push(`${s.points[i]},${Math.round(s.points[i + 1]! / ASPECT)}`);
    if (pts.length === 1) pts.push(pts[0]!); // a dot: round caps show it
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", s.color);
    line.setAttribute("stroke-width", String(s.width * (BOARD.size / 1000)));
    line.setAttribute("stroke-linecap", "round");
    line.setAttribute("stroke-linejoin", "round");
    svg.append(line);
  }
  return svg;
}
