/**
 * A token bucket per sender (full JID): a flood from one client is refused
 * with a clear error instead of slowing everyone down. In memory: each
 * instance limits what it receives, which is what it must protect.
 */
export interface RateLimit { burst: number; perSecond: number }

export function rateLimiter({ burst, perSecond }: RateLimit, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  /** Buckets idle long enough to be full again are dropped, so the map stays small. */
  const fullAfterMs = (burst / perSecond) * 1000;
  let sweptAt = now();

  return function allow(sender: string): boolean {
    const t = now();
    if (t - sweptAt > fullAfterMs) {
      for (const [k, b] of buckets) if (t - b.at > fullAfterMs) buckets.delete(k);
      sweptAt = t;
    }
    const b = buckets.get(sender) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
    b.at = t;
    buckets.set(sender, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}
