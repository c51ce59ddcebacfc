import { describe, expect, it } from "@jest/globals";
import { rateLimiter } from "../../component/xmpp/rate-limit.js";

describe("the rate limit", () => {
  it("lets a burst through, then so many a second, per sender", () => {
    let t = 0;
    const allow = rateLimiter({ burst: 3, perSecond: 2 }, () => t);
    expect([1, 2, 3, 4].map(() => allow("a@x/1"))).toEqual([true, true, true, false]);
    expect(allow("b@x/1")).toBe(true); // another sender has its own bucket
    t += 500; // one token back
    expect([allow("a@x/1"), allow("a@x/1")]).toEqual([true, false]);
    t += 10_000; // full again
    expect([1, 2, 3, 4].map(() => allow("a@x/1"))).toEqual([true, true, true, false]);
  });
});
