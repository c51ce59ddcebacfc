/**
 * The desk's softphone: a sip.js user agent with the agent's own account
 * (sip:<user>@<domain>, the password the desk signed in with), registered
 * over the soft switch's WebSocket, so the contact center counts the agent as
 * able to take calls (docs/voice.md "One capacity model") and rings it here.
 * It connects again by itself after a lost connection. Incoming calls go to
 * `onInvite`; everything about one call is agent/call.ts.
 */
import { Registerer, RegistererState, UserAgent, type Invitation } from "sip.js";
import type { SipInfo } from "../lib/config.js";
import { openMicrophone, userAgentOptions } from "../lib/phone.js";

export type PhoneState = "connecting" | "ready" | "offline" | "failed";

/** Delays (ms) between attempts to connect again; the last repeats. */
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

export class DeskPhone {
  state: PhoneState = "connecting";
  /** What the desk shows beside the state (why it is offline or failed). */
  detail = "";
  onState: (phone: DeskPhone) => void = () => {};
  onInvite: (invitation: Invitation) => void = () => {};

  readonly aor: string;
  private readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private stopped = false;
  private attempts = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** The microphone the agent just granted for the call being answered (handed to that call's media). */
  private nextMic: MediaStream | undefined;

  constructor(sip: SipInfo, user: string, password: string) {
    this.aor = `sip:${user}@${sip.domain}`;
    const uri = UserAgent.makeURI(this.aor);
    if (!uri) throw new Error(`${this.aor} is not a SIP address`);
    this.ua = new UserAgent(userAgentOptions(sip, {
      uri,
      authorizationUsername: user,
      authorizationPassword: password,
      // No 180 of our own: the caller already hears the switch's ringback, and an early dialog made by our
      // 180 would keep the Contact the switch gives it no WebSocket alias for (the 200's has one), so the
      // caller's ACK and BYE could not reach this desk.
      sendInitialProvisionalResponse: false,
      delegate: {
        onInvite: (invitation) => this.onInvite(invitation),
        onConnect: () => { this.attempts = 0; void this.register(); },
        onDisconnect: (err) => { if (err && !this.stopped) this.lost("The phone's connection was lost. Reconnecting…"); },
      },
    }, async () => this.takeMic()));
    this.registerer = new Registerer(this.ua, { expires: 300 });
    this.registerer.stateChange.addListener((s) => {
      if (this.stopped) return;
      if (s === RegistererState.Registered) this.set("ready", "");
      else if (s === RegistererState.Unregistered && this.state === "ready") this.set("offline", "The phone is not registered.");
    });
  }

  async start(): Promise<void> {
    try {
      await this.ua.start(); // onConnect registers
    } catch {
      this.lost("Cannot reach the phone service. Retrying…");
    }
  }

  /**
   * Asks for the microphone before answering (so a refusal can be explained
   * while the call still rings); the call's media then uses this stream.
   * Rejects with a person's explanation.
   */
  async prepareMicrophone(video = false): Promise<void> {
    this.nextMic?.getTracks().forEach((t) => t.stop());
    this.nextMic = await openMicrophone(video);
  }

  private async takeMic(): Promise<MediaStream> {
    const mic = this.nextMic;
    this.nextMic = undefined;
    if (mic && mic.active) return mic;
    return openMicrophone();
  }

  private async register(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.registerer.register({
        requestDelegate: {
          onReject: (response) => {
            const code = response.message.statusCode;
            this.set("failed", code === 401 || code === 403 || code === 407
              ? "The phone could not sign in with your account."
              : `The phone could not register (${code} ${response.message.reasonPhrase}).`);
          },
        },
      });
    } catch (err) {
      this.set("failed", `The phone could not register: ${(err as Error).message}`);
    }
  }

  private lost(text: string): void {
    this.set("offline", text);
    clearTimeout(this.retry);
    const delay = RETRY_MS[Math.min(this.attempts, RETRY_MS.length - 1)]!;
    this.attempts++;
    this.retry = setTimeout(() => {
      if (this.stopped) return;
      this.set("connecting", "");
      this.ua.reconnect().catch(() => this.lost("Cannot reach the phone service. Retrying…"));
    }, delay);
  }

  private set(state: PhoneState, detail: string): void {
    if (this.state === state && this.detail === detail) return;
    this.state = state;
    this.detail = detail;
    this.onState(this);
  }

  /** Unregisters (the contact center stops counting this phone) and closes the connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    this.nextMic?.getTracks().forEach((t) => t.stop());
    try {
      if (this.registerer.state === RegistererState.Registered) await Promise.race([this.registerer.unregister(), new Promise((r) => setTimeout(r, 2000))]);
    } catch { /* going anyway */ }
    await this.ua.stop().catch(() => undefined);
  }
}
