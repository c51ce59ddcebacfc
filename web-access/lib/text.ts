/**
 * Rendering untrusted text into the DOM: only text nodes and <a> elements
 * built with DOM calls (never innerHTML), so markup in a message shows as
 * text. http(s) URLs become links that open in a new tab without access to
 * this page (rel=noopener noreferrer).
 */

/** http:// or https:// up to whitespace or characters that cannot end a URL in prose. */
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Trailing punctuation that belongs to the sentence, not the URL; a ")" only when unbalanced. */
function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    const last = url.at(-1);
    if (last && ".,;:!?'\"]}>".includes(last)) url = url.slice(0, -1);
    else if (last === ")" && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0)) url = url.slice(0, -1);
    else return url;
  }
}

/** A safe absolute http(s) URL string, or null. */
export function safeHttpUrl(candidate: string): string | null {
  try {
    const u = new URL(candidate);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** Splits text into plain parts and links. */
export function linkify(text: string): Array<{ text: string; href?: string }> {
  const parts: Array<{ text: string; href?: string }> = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    const href = safeHttpUrl(url);
    if (!href) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: url, href });
    at = m.index + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** Appends `text` to `parent` with clickable links; returns parent. Style it with white-space: pre-wrap for line breaks. */
export function appendText(parent: HTMLElement, text: string): HTMLElement {
  for (const part of linkify(text)) {
    if (part.href) {
      const a = document.createElement("a");
      a.href = part.href;
      a.textContent = part.text;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.append(a);
    } else {
      parent.append(document.createTextNode(part.text));
    }
  }
  return parent;
}

/**
 * A tiny element builder: el("p", {class: "x"}, "text", child). Attributes are
 * set with setAttribute, children strings become text nodes, so nothing is
 * parsed as HTML.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
