/**
 * What the customer page and the agent desk share for calls with sip.js 0.21
 * (SIP over WebSocket to the soft switch, WebRTC audio): the user agent's
 * options, the media of a session (remote audio, mute, hold, the local
 * stream), and the texts of failures a person can act on (a denied microphone,
 * a refusal's Reason header).
 */
import {
  SessionState, UserAgent,
  type Core, type Session, type SessionDescriptionHandlerFactory, type UserAgentOptions,
} from "sip.js";
// The WebRTC handler straight from its module: the `Web` namespace would bundle SimpleUser and SessionManager too (~30 KB).
import {
  defaultSessionDescriptionHandlerFactory, SessionDescriptionHandler,
  type SessionDescriptionHandlerOptions,
} from "sip.js/lib/platform/web/session-description-handler/index.js";

type IncomingResponse = Core.IncomingResponse;
import type { SipInfo } from "./config.js";

/** Audio only, both ways. */
export const AUDIO_ONLY = { constraints: { audio: true, video: false } } as const;
/** Audio and camera video, both ways. */
export const AUDIO_VIDEO = { constraints: { audio: true, video: true } } as const;

/** Whether an SDP offers video (a video call). */
export const offersVideo = (sdp: string | undefined): boolean => /^m=video [1-9]/m.test(sdp ?? "");

/**
 * A user agent on the soft switch's WebSocket. ICE servers come from the
 * configuration only (sip.js's own default STUN server is on the internet: a
 * page would wait 5 s for it where it is unreachable). `stream`: the media to
 * send, if already acquired (the page asks for the microphone before it calls).
 */
export function userAgentOptions(sip: SipInfo, extra: Partial<UserAgentOptions>, stream?: () => Promise<MediaStream>): UserAgentOptions {
  const factory: SessionDescriptionHandlerFactory = defaultSessionDescriptionHandlerFactory(stream
    ? async () => stream()
    : undefined);
  return {
    transportOptions: { server: sip.websocketUrl, connectionTimeout: 10 },
    sessionDescriptionHandlerFactory: factory,
    sessionDescriptionHandlerFactoryOptions: {
      peerConnectionConfiguration: { iceServers: sip.iceServers },
      iceGatheringTimeout: 2000,
    },
    logLevel: sipLogLevel(),
    userAgentString: "Switchboard web",
    ...extra,
  };
}

/** sip.js's console log level: "error", or what localStorage["switchboard.sipLog"] says (debug, log, warn) while debugging. */
function sipLogLevel(): "debug" | "log" | "warn" | "error" {
  try {
    const v = localStorage.getItem("switchboard.sipLog");
    if (v === "debug" || v === "log" || v === "warn") return v;
  } catch { /* storage denied */ }
  return "error";
}

/** The session's WebRTC handler, once it has one. */
export function handlerOf(session: Session): SessionDescriptionHandler | undefined {
  const sdh = session.sessionDescriptionHandler;
  return sdh instanceof SessionDescriptionHandler ? sdh : undefined;
}

/** Plays the session's remote audio in `audio` (its tracks arrive with the answer). */
export function playRemoteAudio(session: Session, audio: HTMLAudioElement): void {
  const sdh = handlerOf(session);
  if (!sdh) return;
  const stream = sdh.remoteMediaStream;
  if (audio.srcObject !== stream) audio.srcObject = stream;
  void audio.play().catch(() => undefined); // autoplay refused: the call still runs, the page shows it
}

/**
 * Mute: the microphone is silenced (its track disabled); the call, the connection and any video (a camera,
 * a shared screen) stay.
 */
export function setMuted(session: Session, muted: boolean): void {
  for (const sender of handlerOf(session)?.peerConnection?.getSenders() ?? []) {
    if (sender.track?.kind === "audio") sender.track.enabled = !muted;
  }
}

/**
 * Hold (RFC 3264 re-INVITE with sendonly/inactive) or resume; resolves true
 * when the other side accepted. Both directions are silenced while held.
 */
export function setHold(session: Session, hold: boolean, muted: boolean): Promise<boolean> {
  if (session.state !== SessionState.Established) return Promise.resolve(false);
  const options = session.sessionDescriptionHandlerOptionsReInvite as SessionDescriptionHandlerOptions;
  const set = (held: boolean) => { session.sessionDescriptionHandlerOptionsReInvite = { ...options, hold: held } as SessionDescriptionHandlerOptions; };
  set(hold);
  return new Promise((resolve) => {
    session.invite({
      requestDelegate: {
        onAccept: () => {
          const sdh = handlerOf(session);
          sdh?.enableReceiverTracks(!hold);
          sdh?.enableSenderTracks(!hold);
          if (!hold) setMuted(session, muted); // muted stays muted (the microphone only)
          resolve(true);
        },
        onReject: () => {
          set(!hold);
          resolve(false);
        },
      },
    }).catch(() => {
      set(!hold);
      resolve(false);
    });
  });
}

/** The human text of an RFC 3326 Reason header (`SIP;cause=480;text="..."`), or "". */
export function reasonText(header: string | undefined): string {
  const m = /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header ?? "");
  return m ? m[1]!.replace(/\\(.)/g, "$1").trim() : "";
}

/** Why a call was refused, for the person who placed it: the Reason's text, else the status. */
export function refusalText(response: IncomingResponse): string {
  const m = response.message;
  const reason = reasonText(m.getHeader("Reason"));
  if (reason) return reason;
  if (m.statusCode === 486 || m.statusCode === 600) return "Everyone is busy right now. Please try again later.";
  if (m.statusCode === 408 || m.statusCode === 480) return "Nobody could take your call right now. Please try again later.";
  return `The call could not be connected (${m.statusCode} ${m.reasonPhrase}).`;
}

/** A person's explanation of a getUserMedia failure. */
export function microphoneError(err: unknown): string {
  const name = (err as { name?: string } | null)?.name ?? "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError")
    return "Microphone access was denied. Allow the microphone for this site (the icon in the address bar), then try again.";
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError")
    return "No microphone was found. Connect one, then try again.";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError")
    return "The microphone is in use by another program or could not be started.";
  if (!navigator.mediaDevices?.getUserMedia) return "This browser cannot use a microphone here (calls need a secure page: https).";
  return `The microphone could not be used: ${(err as Error)?.message || String(err)}.`;
}

/** Asks for the microphone (and the camera for `video`); rejects with a person's explanation. */
export async function openMicrophone(video = false): Promise<MediaStream> {
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("no mediaDevices"), { name: "NotSupported" });
    return await navigator.mediaDevices.getUserMedia({ audio: true, video });
  } catch (err) {
    throw new Error(microphoneError(err));
  }
}

/** A safe SIP header value: one line, printable, bounded. */
export function headerValue(text: string, max = 200): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, max);
}

/** A display name as sip.js quotes it: no quotes or backslashes inside. */
export const displayNameOf = (name: string): string => headerValue(name, 100).replace(/["\\]/g, "");

export { SessionState, UserAgent };
