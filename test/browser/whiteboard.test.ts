/**
 * The whiteboard (issue 15) in Debian's Chromium against the real stack: the customer draws on the chat page with
 * the mouse (pointer events) and the agent desk shows the same stroke; the agent draws back and the page opens its
 * board with it; a Clear empties both; touch pointer events draw like the mouse. What each board shows is compared through its `data-strokes` (the decoded
 * strokes) and its canvas pixels.
 */
import { describe, expect, it } from "@jest/globals";
import type { Locator, Page } from "playwright-core";
import type { Stroke } from "../../protocol/board.js";
import { screenshotPath } from "../helpers/browser.js";
import { readyDesk, signInDesk, useBrowserStack } from "../helpers/desk.js";
import { NS, SB } from "../../protocol/names.js";
import { until, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

const CC = "cc.acme.test";

let r: Running;
const { newPage: openPage } = useBrowserStack({ queues: [{ name: "billing", title: "Billing", skills: ["billing"], allowGuests: true }] }, (running) => { r = running; });
const newPage = (width: number, height: number) => openPage({ viewport: { width, height } });

/** Alice's desk, signed in and ready. */
async function signIn(desk: Page): Promise<void> {
  await signInDesk(r, desk, "alice@acme.test", "alice-pw");
  await readyDesk(r, desk, "alice@acme.test");
}

const strokesOf = async (board: Locator): Promise<Stroke[]> => JSON.parse((await board.getAttribute("data-strokes")) ?? "[]") as Stroke[];
/** Waits until the board shows `n` strokes, and returns them. */
const strokesUntil = (board: Locator, n: number, what: string) => until(() => strokesOf(board), (s) => s.length === n, 8000, what);
/** How many pixels of the board's canvas something is drawn on (the canvas starts transparent). */
const inked = (board: Locator) => board.locator("canvas").evaluate((c: HTMLCanvasElement) => {
  const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
  return n;
});

/** Drags the mouse across the canvas from and to these fractions of its size. */
async function drag(page: Page, board: Locator, from: [number, number], to: [number, number]): Promise<void> {
  const box = (await board.locator("canvas").boundingBox())!;
  const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 12 });
  await page.mouse.up();
}

describe("the whiteboard between the page and the desk", () => {
  it("shows the customer's stroke on the desk and the agent's on the page, a Clear on both, and a finger's stroke (touch)", async () => {
    const desk = await newPage(1280, 860);
    await signIn(desk);

    const page = await newPage(900, 820);
    await page.goto(`http://127.0.0.1:${r.app.webPort}/chat/?queue=billing`);
    await page.locator("#prechat").getByLabel("Name").fill("Ann Example");
    await page.locator("#prechat").getByLabel("Subject").fill("A drawing");
    await page.getByRole("button", { name: "Start chat" }).click();
    await desk.getByRole("article", { name: "Ann Example" }).getByRole("button", { name: "Accept" }).click();
    await desk.getByRole("tab", { name: /Ann Example/ }).waitFor();
    await page.locator("#composer").waitFor({ state: "visible" });
    // The page told the desk (XEP-0030) that it shows the board.
    await desk.locator("button[data-board-support='yes']", { hasText: "Whiteboard" }).waitFor();

    // The customer opens the board and draws a line with the mouse.
    await page.getByRole("button", { name: "Whiteboard" }).click();
    const pageBoard = page.getByRole("region", { name: "Whiteboard shared with the agent" });
    await pageBoard.waitFor();
    await drag(page, pageBoard, [0.2, 0.3], [0.7, 0.6]);
    const drawn = await strokesUntil(pageBoard, 1, "the page's own stroke");
    const ownInk = await inked(pageBoard);
    expect(ownInk).toBeGreaterThan(100); // drawn piece by piece as the pointer moved

    // The desk opens its board with it: the same stroke, drawn.
    const deskBoard = desk.getByRole("tabpanel").getByRole("region", { name: /^Whiteboard shared with/ });
    const shown = await strokesUntil(deskBoard, 1, "the customer's stroke on the desk");
    expect(shown).toEqual(drawn);
    const [s] = shown;
    expect(s!.points.length).toBeGreaterThanOrEqual(4);
    // From about (2000, 3000) to (7000, 6000) in board units, wherever the two canvases sit and however big they are.
    expect(Math.abs(s!.points[0]! - 2000)).toBeLessThan(150);
    expect(Math.abs(s!.points[1]! - 3000)).toBeLessThan(150);
    expect(Math.abs(s!.points.at(-2)! - 7000)).toBeLessThan(150);
    expect(Math.abs(s!.points.at(-1)! - 6000)).toBeLessThan(150);
    expect(await inked(deskBoard)).toBeGreaterThan(100);
    expect(await desk.getByRole("button", { name: "Whiteboard" }).getAttribute("aria-pressed")).toBe("true");

    // The agent draws in red: the page shows it beside its own.
    await deskBoard.getByRole("button", { name: "Red" }).click();
    await drag(desk, deskBoard, [0.8, 0.1], [0.8, 0.9]);
    const both = await strokesUntil(pageBoard, 2, "the agent's stroke on the page");
    expect(await inked(pageBoard)).toBeGreaterThan(ownInk + 50); // the agent's line painted over the open board
    expect(both[1]!.color).toBe("#dc2626");
    expect(both).toEqual(await strokesOf(deskBoard));
    await page.screenshot({ path: screenshotPath("customer-whiteboard.png") });
    await desk.screenshot({ path: screenshotPath("agent-whiteboard.png") });

    // The customer clears: both boards are empty, canvases included.
    await pageBoard.getByRole("button", { name: "Clear" }).click();
    await strokesUntil(deskBoard, 0, "the desk's board cleared");
    expect(await strokesOf(pageBoard)).toEqual([]);
    expect(await inked(deskBoard)).toBe(0);
    expect(await inked(pageBoard)).toBe(0);

    // A finger (pointer events of type touch, as a phone sends them) draws as the mouse does.
    await pageBoard.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const r = c.getBoundingClientRect();
      const at = (fx: number, fy: number) => ({ pointerId: 7, pointerType: "touch", isPrimary: true, bubbles: true, clientX: r.left + fx * r.width, clientY: r.top + fy * r.height });
      c.dispatchEvent(new PointerEvent("pointerdown", at(0.5, 0.5)));
      for (let i = 1; i <= 5; i++) c.dispatchEvent(new PointerEvent("pointermove", at(0.5 + i * 0.05, 0.5)));
      c.dispatchEvent(new PointerEvent("pointerup", at(0.75, 0.5)));
    });
    const touched = await strokesUntil(deskBoard, 1, "the finger's stroke on the desk");
    expect(touched).toEqual(await strokesOf(pageBoard));
    expect(touched[0]!.points.length / 2).toBe(6);
    expect(Math.abs(touched[0]!.points.at(-2)! - 7500)).toBeLessThan(50);
    await page.getByRole("button", { name: "End chat" }).click();
    await desk.getByText("Chat ended.").waitFor();
    await Promise.all([desk.context().close(), page.context().close()]); // the next test's desk is alice's only one
  }, 60000);

  it("tells the agent when the customer's client is a plain XMPP client that shows no board", async () => {
    const desk = await newPage(1280, 860);
    await signIn(desk);
    const ann = await connectGuest(r.config); // xmpp.js: answers disco#info with service-unavailable, as a client without it
    try {
      const x = xmlFor(ann);
      await ann.send(x("message", { to: `billing@${CC}`, type: "chat", id: "hello" }, x("body", {}, "Hello from my own client")));
      await desk.getByRole("article").getByRole("button", { name: "Accept" }).click();
      await waitFor(ann, (s) => !!s.getChild(SB.assigned, NS.SB), 10000, "assigned");
      const button = desk.getByRole("tabpanel").locator("button[data-board-support='no']", { hasText: "Whiteboard" });
      await button.waitFor();
      expect(await button.getAttribute("title")).toMatch(/chat app does not show a whiteboard \(only the web chat page does\)\.$/);
      await button.click();
      await desk.getByRole("tabpanel").getByText(/chat app does not show a whiteboard/).last().waitFor();
    } finally {
      await stopAll(ann);
    }
  }, 60000);
});
