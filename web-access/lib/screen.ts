/**
 * Screen sharing in a call, and the other side's video (issue 11: application sharing, remote
 * assistance), for the customer page and the agent desk alike.
 *
 * In a video call the screen's track takes the camera's place on the video sender (no renegotiation),
 * and the camera comes back after. In an audio-only call there is no video to replace, so sharing adds a
 * video track and sends a re-INVITE (RFC 3264: a new m=video line); stopping withdraws it with another
 * (the line stays, inactive on our side, so sharing again needs no new line). The soft switch and the
 * media relay re-offer within the call (docs/voice.md).
 *
 * The other side's video is shown while one of its video tracks is live and not muted: WebRTC mutes a
 * remote track while its sender sends nothing or has withdrawn it, and unmutes it on the first packet.
 */
import type { Session } from "sip.js";
import { handlerOf } from "./phone.js";

const videoTransceiver = (pc: RTCPeerConnection) =>
  pc.getTransceivers().find((t) => t.receiver.track.kind === "video" && t.currentDirection !== "stopped");

/** Sends a re-INVITE with the peer connection as it is now; resolves whether the other side accepted. */
function renegotiate(session: Session): Promise<boolean> {
  return new Promise((resolve) => {
    session.invite({ requestDelegate: { onAccept: () => resolve(true), onReject: () => resolve(false) } }).catch(() => resolve(false));
  });
}

/** The other side's media while one of its video tracks is playing (live and not muted), else undefined. */
export function remoteVideo(session: Session | undefined): MediaStream | undefined {
  const stream = session ? handlerOf(session)?.remoteMediaStream : undefined;
  return stream?.getVideoTracks().some((t) => t.readyState === "live" && !t.muted) ? stream : undefined;
}

/**
 * Calls `changed` whenever the other side's video may have started or stopped (a video track arrives, is
 * muted, unmuted or ends), from an established call on. Returns what stops the watching.
 */
export function watchRemoteVideo(session: Session, changed: () => void): () => void {
  const pc = handlerOf(session)?.peerConnection;
  if (!pc) return () => {};
  const watched = new Set<MediaStreamTrack>();
  const watch = (track: MediaStreamTrack) => {
    if (track.kind !== "video" || watched.has(track)) return;
    watched.add(track);
    for (const event of ["mute", "unmute", "ended"]) track.addEventListener(event, changed);
    changed();
  };
  const onTrack = (e: RTCTrackEvent) => watch(e.track);
  for (const r of pc.getReceivers()) watch(r.track);
  pc.addEventListener("track", onTrack);
  return () => {
    pc.removeEventListener("track", onTrack);
    for (const t of watched) for (const event of ["mute", "unmute", "ended"]) t.removeEventListener(event, changed);
  };
}

export class ScreenShare {
  private track: MediaStreamTrack | undefined;

  /**
   * `session`: the call, once placed or answered; `camera`: the camera's track in a video call (undefined
   * in an audio call); `changed`: told when sharing starts or stops (the browser's own "Stop sharing" too).
   */
  constructor(
    private readonly session: () => Session | undefined,
    private readonly camera: () => MediaStreamTrack | undefined,
    private readonly changed: () => void,
  ) {}

  get sharing(): boolean {
    return this.track !== undefined;
  }

  /** Whether this browser can share a screen at all (not over plain http, say). */
  static get supported(): boolean {
    return !!navigator.mediaDevices?.getDisplayMedia;
  }

  toggle(): Promise<void> {
    return this.sharing ? this.stop() : this.start();
  }

  /** Asks the browser for a screen or window and sends it; rejects with a person's explanation. */
  async start(): Promise<void> {
    const session = this.session();
    const pc = session && handlerOf(session)?.peerConnection;
    if (!session || !pc || this.track) return;
    let display: MediaStream;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      throw new Error(`The screen could not be shared: ${(err as Error).message || (err as Error).name}`);
    }
    const track = display.getVideoTracks()[0];
    if (!track) return;
    this.track = track;
    track.addEventListener("ended", () => void this.stop()); // the browser's own "Stop sharing"
    const transceiver = videoTransceiver(pc);
    if (transceiver && this.camera()) {
      await transceiver.sender.replaceTrack(track);
    } else {
      if (transceiver) {
        await transceiver.sender.replaceTrack(track);
        transceiver.direction = "sendrecv";
      } else {
        pc.addTrack(track, handlerOf(session)!.localMediaStream);
      }
      if (!(await renegotiate(session))) {
        this.release();
        this.changed();
        throw new Error("The screen could not be shared: the other side did not accept video.");
      }
    }
    this.changed();
  }

  /** Stops sending the screen: the camera again in a video call, else no video (withdrawn by a re-INVITE). */
  async stop(): Promise<void> {
    if (!this.release()) return;
    const session = this.session();
    const pc = session && handlerOf(session)?.peerConnection;
    const transceiver = pc && videoTransceiver(pc);
    const camera = this.camera();
    if (transceiver && camera) {
      await transceiver.sender.replaceTrack(camera).catch(() => undefined);
    } else if (session && transceiver) {
      await transceiver.sender.replaceTrack(null).catch(() => undefined);
      transceiver.direction = "inactive";
      await renegotiate(session);
    }
    this.changed();
  }

  /** Stops the screen's capture (the call ended, say); true when there was one. */
  release(): boolean {
    const track = this.track;
    this.track = undefined;
    track?.stop();
    return track !== undefined;
  }
}
