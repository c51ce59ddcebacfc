/**
 * Web Audio helpers for calls: an audio level meter over a MediaStream (drives a
 * <meter> element), and the tones a phone plays itself (ringback while a call
 * waits, a ringtone for an incoming call). One AudioContext per page, made on
 * first use (after the click that started or answered the call, so autoplay
 * rules let it run).
 */

let shared: AudioContext | undefined;

/** The page's AudioContext, resumed (undefined where Web Audio is missing). */
export function audioContext(): AudioContext | undefined {
  if (!shared) {
    const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctor) return undefined;
    shared = new Ctor();
  }
  if (shared.state === "suspended") void shared.resume().catch(() => undefined);
  return shared;
}

/**
 * Shows a stream's level in a <meter> (0..1), ten times a second. The level is
 * the RMS of the last ~20 ms on a -60..0 dBFS scale, falling back slowly.
 */
export class LevelMeter {
  private source: MediaStreamAudioSourceNode | undefined;
  private analyser: AnalyserNode | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private samples: Float32Array<ArrayBuffer> | undefined;

  constructor(private readonly meter: HTMLMeterElement) {}

  /** Follows `stream` (replacing the one followed before); a stream without audio shows 0. */
  follow(stream: MediaStream | undefined): void {
    this.stop();
    const ctx = audioContext();
    if (!ctx || !stream || stream.getAudioTracks().length === 0) return;
    this.source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser); // not to the destination: the meter only listens
    this.timer = setInterval(() => this.sample(), 100);
  }

  /** The last level shown (0..1). */
  get level(): number {
    return this.meter.value;
  }

  private sample(): void {
    if (!this.analyser || !this.samples) return;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const v of this.samples) sum += v * v;
    const rms = Math.sqrt(sum / this.samples.length);
    // dBFS from -60 (silence) to 0, as 0..1.
    const db = rms > 0 ? 20 * Math.log10(rms) : -100;
    const now = Math.min(1, Math.max(0, (db + 60) / 60));
    // Falls back slowly (a tenth of a second at a time), so short sounds stay visible.
    const level = Math.max(now, this.meter.value * 0.85);
    this.meter.value = Math.round(level * 100) / 100;
    this.meter.textContent = `${Math.round(level * 100)}%`;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.source?.disconnect();
    this.analyser?.disconnect();
    this.source = undefined;
    this.analyser = undefined;
    this.meter.value = 0;
    this.meter.textContent = "0%";
  }
}

/**
 * A phone's own tone, on and off: ringback (what a caller hears while the call
 * rings: 440 + 480 Hz, 2 s on, 4 s off) or a ringtone (an incoming call: a
 * softer 2-tone trill).
 */
export class Tone {
  private nodes: AudioNode[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly kind: "ringback" | "ringtone") {}

  get playing(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer !== undefined) return;
    const ctx = audioContext();
    if (!ctx) return;
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const freqs = this.kind === "ringback" ? [440, 480] : [660, 880];
    const oscillators = freqs.map((f) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    this.nodes = [gain, ...oscillators];
    const [on, period] = this.kind === "ringback" ? [2, 6] : [1, 3];
    const level = this.kind === "ringback" ? 0.08 : 0.12;
    const schedule = () => {
      const t = ctx.currentTime;
      gain.gain.setValueAtTime(level, t);
      gain.gain.setValueAtTime(0, t + on);
    };
    schedule();
    this.timer = setInterval(schedule, period * 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const n of this.nodes) {
      if (n instanceof OscillatorNode) n.stop();
      n.disconnect();
    }
    this.nodes = [];
  }
}
