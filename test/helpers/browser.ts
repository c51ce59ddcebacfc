/** Debian's Chromium driven by playwright-core (never a downloaded browser), for browser tests. */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/**
 * Where a test's screenshot goes: docs/screenshots/ (for the README) with
 * UPDATE_SCREENSHOTS=1, else a temp folder, so a test run leaves the tree clean.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url)) // from dist/test/helpers
    : join(tmpdir(), "switchboard-screenshots");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * `media`: for calls (WebRTC): a fake microphone (a beep) granted without asking, audio that plays without a
 * gesture, and ICE candidates on loopback.
 */
export function launchBrowser({ media = false } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      ...(media ? ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
        // getDisplayMedia without a picker (screen sharing in a call).
        "--auto-select-desktop-capture-source=Entire screen"] : []),
    ],
  });
}
