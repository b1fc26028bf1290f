/** Decisions per identity per minute, across every channel: a leaked token cannot hammer the approval path. */
export interface DecisionRateLimiter {
  /** False when this identity has used its budget for the current minute. */
  take(identity: string): boolean;
}

export function createDecisionRateLimiter(perMinute: number, now: () => number = Date.now): DecisionRateLimiter {
  const windows = new Map<string, { start: number; used: number }>();
  return {
    take(identity) {
      const at = now();
      const window = windows.get(identity);
      if (!window || at - window.start >= 60_000) {
        // Forget old windows so the map does not grow with every name ever seen.
        if (windows.size > 10_000) windows.clear();
        windows.set(identity, { start: at, used: 1 });
        return true;
      }
      if (window.used >= perMinute) return false;
      window.used += 1;
      return true;
    },
  };
}
