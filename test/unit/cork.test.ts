/**
 * corkEachTick, against a stand-in socket that records what it is asked: the writes of one tick go out
 * between one cork and one uncork, in order, and the next tick's writes start a batch of their own. (That a
 * corked socket then sends one chunk is Node's part; the integration tests run every connection through it.)
 */
import { describe, expect, it } from "@jest/globals";
import { corkEachTick } from "../../component/cork.js";

function standIn() {
  const calls: string[] = [];
  const socket = {
    write: (...args: unknown[]) => { calls.push(`write ${String(args[0])}`); return true; },
    cork: () => { calls.push("cork"); },
    uncork: () => { calls.push("uncork"); },
  };
  return { socket, calls };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe("corkEachTick", () => {
  it("sends the writes of one tick between one cork and one uncork, in order", async () => {
    const { socket, calls } = standIn();
    corkEachTick(socket);
    expect(socket.write("a")).toBe(true);
    socket.write("b");
    socket.write("c");
    expect(calls).toEqual(["cork", "write a", "write b", "write c"]);
    await nextTick();
    expect(calls).toEqual(["cork", "write a", "write b", "write c", "uncork"]);
  });

  it("starts a batch of its own for the next tick's writes", async () => {
    const { socket, calls } = standIn();
    corkEachTick(socket);
    socket.write("a");
    await nextTick();
    socket.write("b");
    await nextTick();
    expect(calls).toEqual(["cork", "write a", "uncork", "cork", "write b", "uncork"]);
  });

  it("takes the writes that promise continuations make in the same tick into the same batch", async () => {
    const { socket, calls } = standIn();
    corkEachTick(socket);
    await Promise.resolve(); // from here on, in the microtask queue, where a reply's continuations run
    socket.write("a");
    await Promise.resolve();
    socket.write("b"); // another continuation of the same turn: before Node's next tick
    await nextTick();
    expect(calls).toEqual(["cork", "write a", "write b", "uncork"]);
  });
});
