// Minimal typings for the parts of xmpp.js we use (the packages ship none).
declare module "@xmpp/xml" {
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    parent?: Element;
    constructor(name: string, attrs?: Record<string, string | undefined>, ...children: Array<Element | string>);
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    append(...children: Array<Element | string>): Element;
    toString(): string;
  }
  export type Child = Element | string | undefined | null | false;
  export default function xml(name: string, attrs?: Record<string, string | number | undefined> | null, ...children: Array<Child | Child[]>): Element;
}

declare module "@xmpp/jid" {
  export class JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
    getLocal(): string;
    getDomain(): string;
    getResource(): string;
    equals(other: JID): boolean;
  }
  export default function jid(address: string): JID;
}

declare module "@xmpp/component" {
  import type { Element } from "@xmpp/xml";
  import type { JID } from "@xmpp/jid";
  export interface IqContext { stanza: Element; element: Element; from: JID; to: JID; type: string; id: string }
  export type IqHandler = (ctx: IqContext) => Promise<Element | boolean | undefined> | Element | boolean | undefined;
  export interface Component {
    status: string;
    jid: JID | null;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(...el: Element[]): Promise<void>;
    on(event: "stanza", cb: (el: Element) => void): void;
    on(event: "online", cb: (jid: JID) => void): void;
    on(event: "offline" | "disconnect" | "connect" | "open", cb: (arg?: unknown) => void): void;
    on(event: "error", cb: (err: Error & { condition?: string }) => void): void;
    on(event: "status", cb: (status: string, value?: unknown) => void): void;
    off(event: string, cb: (...args: never[]) => void): void;
    iqCallee: { get(ns: string, name: string, h: IqHandler): void; set(ns: string, name: string, h: IqHandler): void };
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    reconnect: { delay: number; stop(): void };
    /** koa-style: a handler's resolved value (an element) is sent as the reply. */
    middleware: { use(fn: (ctx: { stanza: Element }, next: () => Promise<unknown>) => unknown): void };
  }
  export function component(opts: { service: string; domain: string; password: string }): Component;
  export const xml: typeof import("@xmpp/xml").default;
  export const jid: typeof import("@xmpp/jid").default;
}

declare module "@xmpp/client" {
  import type { Element } from "@xmpp/xml";
  import type { JID } from "@xmpp/jid";
  export interface Client {
    status: string;
    jid: JID | null;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(...el: Element[]): Promise<void>;
    /** Raw bytes onto the stream (tests use it to send what the xml builder cannot: DOCTYPEs, entities). */
    write(raw: string): Promise<void>;
    sendReceive?(el: Element): Promise<Element>;
    on(event: "stanza", cb: (el: Element) => void): void;
    on(event: "online", cb: (jid: JID) => void): void;
    on(event: "error", cb: (err: Error & { condition?: string }) => void): void;
    on(event: string, cb: (...args: any[]) => void): void;
    off(event: string, cb: (...args: any[]) => void): void;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element>; set(el: Element, to?: string, timeout?: number): Promise<Element>; get(el: Element, to?: string, timeout?: number): Promise<Element> };
    iqCallee: { get(ns: string, name: string, h: (ctx: any) => any): void; set(ns: string, name: string, h: (ctx: any) => any): void };
    once(event: string, cb: (...args: any[]) => void): void;
    /** reconnect(): opens the connection again (a stream management resumption when the server kept the session). */
    reconnect: { delay: number; stop(): void; reconnect(): Promise<void> };
    /** XEP-0198 (@xmpp/stream-management): "resumed" after a resumption. */
    streamManagement?: { enabled: boolean; enableSent: boolean; id: string; once(event: "resumed", cb: () => void): void };
  }
  export interface ClientOptions {
    service: string;
    domain: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (auth: (c: { username?: string; password?: string }, mech: string) => Promise<void>, mechs: string[]) => Promise<void>;
  }
  export function client(opts: ClientOptions): Client;
  export const xml: typeof import("@xmpp/xml").default;
  export const jid: typeof import("@xmpp/jid").default;
}
