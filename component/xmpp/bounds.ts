/**
 * The shape of a stanza is checked before anything reads it: everything that
 * walks an element tree (ltx's serializer, getChildText, our own readers) is
 * recursive, and 3,000 nested elements overflow the stack. No request of ours
 * needs more than a few levels (a data form is iq > command > x > field > value),
 * so these limits leave generous room for any client (XHTML-IM, extensions).
 */
import type { Element } from "@xmpp/xml";

export const STANZA_BOUNDS = {
  /** Levels of nesting, counting the stanza itself. */
  depth: 32,
  /** Elements in all, the stanza included. */
  elements: 1000,
} as const;

/** True when the stanza is deeper or larger than STANZA_BOUNDS; iterative, and stops at the first excess. */
export function exceedsBounds(stanza: Element, { depth, elements } = STANZA_BOUNDS): boolean {
  const stack: Array<[Element, number]> = [[stanza, 1]];
  let seen = 0;
  while (stack.length > 0) {
    const [el, level] = stack.pop()!;
    if (level > depth || ++seen > elements) return true;
    for (const child of el.children) if (typeof child !== "string") stack.push([child as Element, level + 1]);
  }
  return false;
}
