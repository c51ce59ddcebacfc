/**
 * Works around a race in @xmpp/stream-management 0.14 (XEP-0198), shared by every xmpp.js client we run
 * (the page, the desk, the tests, the bench), so this file imports nothing.
 *
 * The library resets its count of received stanzas (`h`) to 0 when the server's <enabled/> arrives, but in a
 * promise continuation, not at once. xmpp.js reports the client online at resource binding, before <enabled/>;
 * a client that sends its presence at once gets, in the same read as <enabled/>, its presence echoed and
 * Prosody's <r/>: the library counts the echo, answers <a h='1'/>, then resets the count to 0 and later
 * acknowledges fewer stanzas than before. Prosody (mod_smacks) then closes the stream ("Client acknowledged
 * less stanzas than already acknowledged") and the session ends: a seat was reported unavailable to the
 * component when its second client logged in, a new visitor never got its message (issue 15; reproduced
 * with seat-module.test.ts and Prosody's debug log). Waiting until <enabled/> (or <failed/>) has been applied
 * before sending anything keeps the count right: nothing reaches a fresh resource unasked in that moment.
 */
const SM_NS = "urn:xmpp:sm:3";

interface SmState { enableSent: boolean; enabled: boolean }
interface Nonza { name: string; attrs: { xmlns?: string } }
interface Watched {
  streamManagement?: SmState;
  on(event: string, listener: (arg: never) => void): unknown;
  off(event: string, listener: (arg: never) => void): unknown;
}

/** One macrotask: every promise continuation queued before it (the library's reset among them) has run. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Call before the client starts; once it is online, await settled() before sending anything (or call
 * forget() if the start failed). settled() resolves at once without stream management (a component, or a
 * server that does not offer it), else when the library has applied the server's answer to <enable/>, or when
 * the connection drops meanwhile.
 */
export function watchStreamManagement(entity: Watched): { settled(): Promise<void>; forget(): void } {
  let answered = false;
  let wake: () => void = () => undefined;
  const onNonza = (element: Nonza) => {
    if (element.attrs.xmlns !== SM_NS || (element.name !== "enabled" && element.name !== "failed")) return;
    answered = true;
    wake();
  };
  const onGone = () => { answered = true; wake(); };
  entity.on("nonza", onNonza);
  entity.on("disconnect", onGone);
  const forget = () => {
    entity.off("nonza", onNonza);
    entity.off("disconnect", onGone);
  };
  const settled = async () => {
    try {
      const sm = entity.streamManagement;
      if (!sm) return;
      await nextTask(); // <enable/> goes out in a continuation of resource binding too
      if (!sm.enableSent || sm.enabled) return;
      if (!answered) await new Promise<void>((resolve) => { wake = resolve; });
      await nextTask();
    } finally {
      forget();
    }
  };
  return { settled, forget };
}
