/**
 * The customer's call from the page, with sip.js (docs/protocol.md "Calls from
 * a page"): with the token the queue gave over XMPP, an INVITE to the queue's
 * SIP address over the soft switch's WebSocket, carrying the token as RFC 7433
 * User-to-User data. The caller hears a local ringback while the call waits
 * (the switch answers 180 without media); the place in line comes over XMPP
 * (CustomerSession feeds it in). No DOM beyond the audio element it plays the
 * agent's voice in.
 */
import { Inviter, SessionState, UserAgent, type Session } from "sip.js";
import type { SipInfo } from "../lib/config.js";
import { randomId } from "../lib/connect.js";
import { AUDIO_ONLY, AUDIO_VIDEO, displayNameOf, handlerOf, headerValue, playRemoteAudio, refusalText, setMuted, userAgentOptions } from "../lib/phone.js";
import { Tone } from "../lib/audio.js";
import { ScreenShare, remoteVideo, watchRemoteVideo } from "../lib/screen.js";

export type CallStage =
  | "connecting" // asking for the token, reaching the switch
  | "waiting" // queued or ringing a seat: ringback, place in line
  | "talking" // the agent answered
  | "ended";

export interface CallEnd {
  text: string;
  /** error: refused or failed (shown as an alert); info: an ordinary end. */
  kind: "error" | "info";
}

export interface CallTarget {
  /** The queue's SIP address from the token answer. */
  uri: string;
  token: string;
  name: string;
  subject: string;
}

export class PageCall {
  stage: CallStage = "connecting";
  /** Last queue-status (0 = next in line) and estimated wait in seconds. */
  position: number | undefined;
  waitSeconds: number | undefined;
  answeredAt: number | undefined;
  endedAt: number | undefined;
  muted = false;
  end: CallEnd | undefined;
  onChange: () => void = () => {};
  /** "Share screen": in place of the camera in a video call, added to an audio-only one. */
  private readonly screen = new ScreenShare(() => this.session, () => this.mic.getVideoTracks()[0], () => this.onChange());
  private unwatchVideo: () => void = () => {};

  private ua: UserAgent | undefined;
  private session: Inviter | undefined;
  private readonly ringback = new Tone("ringback");
  private hungUpHere = false;

  /** `mic`: the microphone, already granted; stopped when the call ends. */
  /** `video`: a video call (`mic` carries the camera too). */
  constructor(private readonly sip: SipInfo, readonly mic: MediaStream, private readonly audio: HTMLAudioElement, readonly video = false) {}

  /** Ended (it may end while an await is pending: hung up, refused). */
  get over(): boolean {
    return this.stage === "ended";
  }

  get sharing(): boolean {
    return this.screen.sharing;
  }

  /** The agent's camera or screen while it plays (a video call, or the agent sharing a screen). */
  get remoteVideo(): MediaStream | undefined {
    return this.stage === "talking" ? remoteVideo(this.session) : undefined;
  }

  /** The agent's voice, once the call is answered (for the level meter). */
  get remoteStream(): MediaStream | undefined {
    return this.session ? handlerOf(this.session)?.remoteMediaStream : undefined;
  }

  /** Places the call; resolves once the INVITE is sent (what follows comes through onChange). */
  async place(target: CallTarget): Promise<void> {
    if (this.stage === "ended") return;
    const ua = new UserAgent(userAgentOptions(this.sip, {
      // A guest caller: not of our domain, so the switch asks no password; the token says who calls.
      uri: UserAgent.makeURI(`sip:web-${randomId(6)}@anonymous.invalid`),
      displayName: displayNameOf(target.name) || undefined,
      delegate: { onDisconnect: (err) => { if (err && this.stage !== "ended") this.finish({ kind: "error", text: "The connection to the phone service was lost, so the call ended." }); } },
    }, async () => this.mic));
    this.ua = ua;
    try {
      await ua.start();
    } catch {
      this.finish({ kind: "error", text: "Could not connect to the phone service. Check your connection and try again." });
      return;
    }
    const to = UserAgent.makeURI(target.uri);
    if (this.over) return; // hung up while connecting
    if (!to) {
      this.finish({ kind: "error", text: "The contact center gave an address that cannot be called." });
      return;
    }
    const headers = [`User-to-User: ${target.token};encoding=hex`, `Date: ${new Date().toUTCString()}`];
    const subject = headerValue(target.subject);
    if (subject) headers.push(`Subject: ${subject}`);
    const inviter = new Inviter(ua, to, { extraHeaders: headers, sessionDescriptionHandlerOptions: this.video ? AUDIO_VIDEO : AUDIO_ONLY, earlyMedia: false });
    this.session = inviter;
    inviter.delegate = { onBye: () => { this.hungUpHere = false; } };
    inviter.stateChange.addListener((state) => this.onState(inviter, state));
    try {
      await inviter.invite({
        requestDelegate: {
          onTrying: () => this.waiting(),
          onProgress: () => this.waiting(),
          onReject: (response) => {
            if (this.hungUpHere) return this.finish({ kind: "info", text: "You hung up." });
            this.finish({ kind: "error", text: refusalText(response) });
          },
        },
      });
      // The INVITE is out: the switch queues every call to a queue address and answers 180 at once, so the
      // page rings back now rather than wait for that reply to cross the network.
      this.waiting();
    } catch (err) {
      this.finish({ kind: "error", text: `The call could not be placed: ${(err as Error).message}` });
    }
  }

  /** From the queue's XEP-0142 queue-status over XMPP. */
  queueStatus(position: number | undefined, waitSeconds: number | undefined): void {
    if (this.stage !== "connecting" && this.stage !== "waiting") return;
    this.position = position;
    this.waitSeconds = waitSeconds;
    this.onChange();
  }

  toggleMute(): void {
    if (!this.session || this.stage !== "talking") return;
    this.muted = !this.muted;
    setMuted(this.session, this.muted);
    this.onChange();
  }

  /** Hang up: cancel while it rings, bye once answered, or just stop while connecting. */
  hangUp(): void {
    const s = this.session;
    this.hungUpHere = true;
    if (s?.state === SessionState.Established) {
      void s.bye().catch(() => this.finish({ kind: "info", text: "You hung up." }));
    } else if (s?.state === SessionState.Establishing || s?.state === SessionState.Initial) {
      void s.cancel().catch(() => this.finish({ kind: "info", text: "You hung up." }));
    } else {
      this.finish({ kind: "info", text: "You hung up." });
    }
  }

  /** "Share screen", or back (the browser's own "Stop sharing" too); rejects with a person's explanation. */
  async toggleScreen(): Promise<void> {
    if (this.stage === "talking") await this.screen.toggle();
  }

  /** The call's RTCPeerConnection (its statistics show whether audio flows). */
  get peerConnection(): RTCPeerConnection | undefined {
    return this.session ? handlerOf(this.session)?.peerConnection : undefined;
  }

  private waiting(): void {
    if (this.stage !== "connecting" && this.stage !== "waiting") return;
    this.stage = "waiting";
    this.ringback.start();
    this.onChange();
  }

  private onState(s: Session, state: SessionState): void {
    if (state === SessionState.Established) {
      this.ringback.stop();
      this.stage = "talking";
      this.answeredAt = Date.now();
      playRemoteAudio(s, this.audio);
      this.unwatchVideo = watchRemoteVideo(s, () => this.onChange());
      this.onChange();
    } else if (state === SessionState.Terminated) {
      if (this.stage === "talking") return this.finish({ kind: "info", text: this.hungUpHere ? "You ended the call." : "The agent ended the call." });
      // A final response's own handler (the refusal's Reason) runs right after this state change: let it speak first.
      queueMicrotask(() => this.finish(this.hungUpHere ? { kind: "info", text: "You hung up." } : { kind: "error", text: "The call ended before anyone answered." }));
    }
  }

  /** Ends the call's media and connection once, keeping the first reason given. */
  finish(end: CallEnd): void {
    if (this.stage === "ended") return;
    this.stage = "ended";
    this.end = end;
    this.endedAt = Date.now();
    this.ringback.stop();
    for (const t of this.mic.getTracks()) t.stop();
    this.screen.release();
    this.unwatchVideo();
    this.audio.srcObject = null;
    const ua = this.ua;
    this.ua = undefined;
    // Let a BYE or CANCEL in flight leave before the WebSocket closes.
    if (ua) setTimeout(() => void ua.stop().catch(() => undefined), 1000);
    this.onChange();
  }
}
