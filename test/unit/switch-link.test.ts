/**
 * The component's line to the soft switch, against a stand-in for Kamailio's evapi socket on loopback:
 * commands are numbered on their connection, a ping follows a burst, and the commands the switch reports
 * it never got are sent again (Kamailio's own half, with a real Kamailio: integration/voice.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { once } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import pino from "pino";
import { createSwitchLink, parseLost, type SwitchLink } from "../../component/sip/switch-link.js";

const frame = (s: string) => `${Buffer.byteLength(s)}:${s},`;

let server: Server;
let peer: Socket;
let frames: string[];
let arrived: (() => void) | undefined;
let link: SwitchLink;

/** Resolves once the switch's side has got a frame that passes `test`. */
async function frameWhere(test: (f: string) => boolean): Promise<string> {
  for (;;) {
    const found = frames.find(test);
    if (found) return found;
    await new Promise<void>((r) => { arrived = r; });
  }
}

beforeEach(async () => {
  frames = [];
  server = createServer((s) => {
    peer = s;
    let buffer = "";
    s.setEncoding("utf8").on("data", (d: string) => {
      buffer += d;
      for (let m; (m = /^(\d+):/.exec(buffer));) {
        const start = m[0].length;
        const end = start + Number(m[1]);
        if (buffer.length <= end) break;
        frames.push(buffer.slice(start, end));
        buffer = buffer.slice(end + 1);
      }
      arrived?.();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const connected = new Promise<void>((resolve) => {
    link = createSwitchLink({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, log: pino({ level: "silent" }), onConnect: resolve });
  });
  await connected;
});
afterEach(async () => {
  link.stop();
  server.close();
});

describe("the switch link", () => {
  it("numbers each command on its connection, and pings after a burst", async () => {
    link.send("route", "a@x", "alice", "20");
    link.send("end", "b@x");
    await frameWhere((f) => f.endsWith("|ping"));
    expect(frames).toEqual(["1|route|a@x|alice|20", "2|end|b@x", "3|ping"]);
  });

  it("sends again, with new numbers, what the switch reports lost, and ignores another connection's report", async () => {
    link.send("route", "a@x", "alice", "20");
    link.send("end", "b@x");
    link.send("check", "c@x");
    await frameWhere((f) => f.startsWith("3|"));
    const me = `${peer.remoteAddress}:${peer.remotePort}`;
    peer.write(frame(`lost|127.0.0.1:1|1|3`) + frame(`lost|${me}|1|3`));
    const again = await frameWhere((f) => f.endsWith("|end|b@x") && !f.startsWith("2|"));
    expect(Number(again.split("|")[0])).toBeGreaterThan(3);
    link.send("check", "d@x"); // after it: nothing else was sent again
    await frameWhere((f) => f.endsWith("|check|d@x"));
    expect(frames.filter((f) => !f.endsWith("|ping")).map((f) => f.replace(/^\d+\|/, "")))
      .toEqual(["route|a@x|alice|20", "end|b@x", "check|c@x", "end|b@x", "check|d@x"]);
  });
});

describe("parseLost", () => {
  it("reads the switch's loss reports, and keeps a partial one for the next read", () => {
    const whole = frame("lost|127.0.0.1:4000|7|10");
    expect(parseLost(whole + whole.slice(0, 5))).toEqual({ lost: [{ link: "127.0.0.1:4000", from: 8, to: 9 }], rest: whole.slice(0, 5) });
  });
});
