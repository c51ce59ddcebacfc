/**
 * The whiteboard's wire format (docs/protocol.md, "Whiteboard"): a bodiless chat message between a seat and
 * its granted customer carrying <board xmlns='urn:switchboard:0' session='S1'> with strokes and clears.
 * Pure functions shared by the page, the desk, the console and the component; the seat module
 * (prosody/mod_switchboard.lua, check_board) applies the same rules in Lua, with the same limits.
 * Imports nothing, like protocol/names.ts.
 */

/**
 * The XEP-0030 feature a client announces when it shows the board (the customer page does): the desk asks the
 * customer's client, and tells the agent when it does not (a plain XMPP client shows nothing of a board).
 */
export const BOARD_FEATURE = "urn:switchboard:0#board";

/** Limits of the board: each one bounds what one stanza or one session costs anyone who handles it. */
export const BOARD = {
  /** Coordinates are integers in 0..size on both axes, whatever the size of the window that drew them. */
  size: 10_000,
  maxPointsPerStroke: 256,
  /** Strokes and clears in one <board/>. */
  maxOpsPerStanza: 8,
  maxWidth: 64,
  maxIdLength: 32,
  maxSessionLength: 64,
  /** Strokes one session may carry in all (both parties, clears included in neither). */
  maxStrokesPerSession: 2000,
  /** Board stanzas a sender may send: `burst` at once, then `perSecond`. */
  perSecond: 10,
  burst: 20,
} as const;

/** The longest text of a stroke's points: every coordinate at its widest ("10000,10000" and a space). */
export const MAX_POINTS_TEXT = BOARD.maxPointsPerStroke * 12 - 1;

export interface Stroke {
  id: string;
  /** "#rrggbb", lower case. */
  color: string;
  width: number;
  /** Flat x,y pairs in 0..BOARD.size. */
  points: number[];
}
export type BoardOp = ({ kind: "stroke" } & Stroke) | { kind: "clear" };
export interface Board { session: string; ops: BoardOp[] }

/** The least a decoder needs of an XML element (both @xmpp/xml's Element and a test's stand-in have it). */
export interface BoardElement {
  name: string;
  attrs: Record<string, string | undefined>;
  getChildElements(): BoardElement[];
  text(): string;
}

/** The one refusal text: fixed, so a reply never echoes what the sender sent. */
export const BOARD_ERROR = `A whiteboard stanza carries the session's id and 1-${BOARD.maxOpsPerStanza} strokes or clears; a stroke has an id ` +
  `(letters, digits, - or _), a color #rrggbb, a width 1-${BOARD.maxWidth} and 1-${BOARD.maxPointsPerStroke} points "x,y" in 0..${BOARD.size} separated by spaces.`;

const ID = /^[A-Za-z0-9_-]+$/;
const COLOR = /^#[0-9a-f]{6}$/;
const WIDTH = /^[1-9][0-9]?$/;
const COORD = "(?:0|[1-9][0-9]{0,4})";
/** Unambiguous (fixed separators), so matching is linear in the text, which is bounded before. */
const POINTS = new RegExp(`^${COORD},${COORD}(?: ${COORD},${COORD})*$`);

export const isColor = (s: string): boolean => COLOR.test(s);

/** A stroke's points from their text, or null if the text breaks any rule. */
export function parsePoints(text: string): number[] | null {
  if (text.length > MAX_POINTS_TEXT || !POINTS.test(text)) return null;
  const points = text.split(/[ ,]/).map(Number);
  if (points.length / 2 > BOARD.maxPointsPerStroke || points.some((n) => n > BOARD.size)) return null;
  return points;
}

/** Whether a stroke (decoded, or about to be sent) keeps every rule. */
export function validStroke(s: Stroke): boolean {
  return typeof s.id === "string" && s.id.length >= 1 && s.id.length <= BOARD.maxIdLength && ID.test(s.id)
    && typeof s.color === "string" && COLOR.test(s.color)
    && Number.isInteger(s.width) && s.width >= 1 && s.width <= BOARD.maxWidth
    && Array.isArray(s.points) && s.points.length >= 2 && s.points.length % 2 === 0 && s.points.length / 2 <= BOARD.maxPointsPerStroke
    && s.points.every((n) => Number.isInteger(n) && n >= 0 && n <= BOARD.size);
}

/** Whether a list of operations (e.g. read back from the transcript API) keeps every rule of one stanza's. */
export function validOps(ops: unknown): ops is BoardOp[] {
  return Array.isArray(ops) && ops.length >= 1 && ops.length <= BOARD.maxOpsPerStanza && ops.every((op: unknown) => {
    const o = op as BoardOp | null;
    return !!o && (o.kind === "clear" || (o.kind === "stroke" && validStroke(o)));
  });
}

/** The <board/> element read strictly: null for anything that breaks a rule (unknown children included). */
export function decodeBoard(board: BoardElement): Board | null {
  const session = board.attrs.session ?? "";
  if (session.length < 1 || session.length > BOARD.maxSessionLength) return null;
  const children = board.getChildElements();
  if (children.length < 1 || children.length > BOARD.maxOpsPerStanza) return null;
  const ops: BoardOp[] = [];
  for (const child of children) {
    // A child in another namespace is not ours: our children inherit the board's (no xmlns of their own).
    if (child.attrs.xmlns !== undefined && child.attrs.xmlns !== board.attrs.xmlns) return null;
    if (child.name === "clear" && child.getChildElements().length === 0 && child.text().trim() === "") {
      ops.push({ kind: "clear" });
      continue;
    }
    if (child.name !== "stroke" || child.getChildElements().length > 0) return null;
    const { id = "", color = "", width = "" } = child.attrs;
    if (!WIDTH.test(width)) return null;
    const points = parsePoints(child.text());
    const stroke: Stroke = { id, color, width: Number(width), points: points ?? [] };
    if (!points || !validStroke(stroke)) return null;
    ops.push({ kind: "stroke", ...stroke });
  }
  return { session, ops };
}

/** The text of a stroke's points. */
export function pointsText(points: number[]): string {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) pairs.push(`${points[i]},${points[i + 1]}`);
  return pairs.join(" ");
}

/** An XML factory, as @xmpp/client's and @xmpp/component's `xml`. */
type Xml<E> = (name: string, attrs: Record<string, string>, ...children: Array<E | string>) => E;

/** The <board/> of these operations (which the caller validated), built with the caller's `xml`. */
export function encodeBoard<E>(xml: Xml<E>, ns: string, board: Board): E {
  return xml("board", { xmlns: ns, session: board.session }, ...board.ops.map((op) => op.kind === "clear"
    ? xml("clear", {})
    : xml("stroke", { id: op.id, color: op.color, width: String(op.width) }, pointsText(op.points))));
}

/**
 * Splits a drawn line into strokes that each keep the point limit (a long line becomes several, each
 * starting where the last ended, so nothing shows a gap), with coordinates clamped and rounded.
 */
export function splitStroke(base: Omit<Stroke, "points">, points: number[], nextId: () => string): Stroke[] {
  const clamped = points.map((n) => Math.min(BOARD.size, Math.max(0, Math.round(Number.isFinite(n) ? n : 0))));
  if (clamped.length % 2 === 1) clamped.pop();
  const out: Stroke[] = [];
  const step = BOARD.maxPointsPerStroke * 2;
  for (let i = 0; i < clamped.length; i += step - 2) {
    const part = clamped.slice(i, i + step);
    if (part.length < 2 || (i > 0 && part.length < 4)) break; // nothing new past the shared point
    out.push({ ...base, id: out.length === 0 ? base.id : nextId(), points: part });
    if (i + step >= clamped.length) break;
  }
  return out;
}

/** The strokes still on the board after these operations in order (a clear wipes what came before). */
export function finalStrokes(ops: Iterable<BoardOp>): Stroke[] {
  let strokes: Stroke[] = [];
  for (const op of ops) {
    if (op.kind === "clear") strokes = [];
    else strokes.push({ id: op.id, color: op.color, width: op.width, points: op.points });
  }
  return strokes;
}
