/**
 * Failed credentials per client address: past `perMinute` failures in a minute, the address is refused
 * (429) until that minute is over, whatever it presents, so guessing tokens from one address costs a minute
 * per `perMinute` guesses. Addresses that speak for many people (trusted proxies) are exempt: refusing
 * them would lock everyone behind them out on a stranger's guesses.
 */
export interface AuthFailureLimiter {
  /** Seconds until this address may present credentials again; 0 when it may now. */
  blockedFor(peer: string): number;
  /** Records a failed attempt. */
  failed(peer: string): void;
}

interface Window {
  startedAt: number;
  failures: number;
}

const WINDOW_MS = 60_000;

export function createAuthFailureLimiter(options: {
  perMinute: number;
  exempt?: (peer: string) => boolean;
  /** Called once when an address becomes refused, to say so in the log. */
  onBlocked?: (peer: string) => void;
  now?: () => number;
  maxPeers?: number;
}): AuthFailureLimiter {
  const now = options.now ?? Date.now;
  const maxPeers = options.maxPeers ?? 10_000;
  const windows = new Map<string, Window>();
  const current = (peer: string): Window | null => {
    const window = windows.get(peer);
    if (!window) return null;
    if (now() - window.startedAt >= WINDOW_MS) {
      windows.delete(peer);
      return null;
    }
    return window;
  };
  // Many addresses failing once each must not grow memory without bound: ended windows go first, then the oldest.
  const makeRoom = () => {
    if (windows.size < maxPeers) return;
    for (const [peer, window] of windows) if (now() - window.startedAt >= WINDOW_MS) windows.delete(peer);
    for (const peer of windows.keys()) {
      if (windows.size < maxPeers) break;
      windows.delete(peer);
    }
  };
  return {
    blockedFor(peer) {
      if (options.exempt?.(peer)) return 0;
      const window = current(peer);
      if (!window || window.failures < options.perMinute) return 0;
      return Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now()) / 1000));
    },
    failed(peer) {
      if (options.exempt?.(peer)) return;
      let window = current(peer);
      if (!window) {
        makeRoom();
        window = { startedAt: now(), failures: 0 };
        windows.set(peer, window);
      }
      window.failures += 1;
      if (window.failures === options.perMinute) options.onBlocked?.(peer);
    },
  };
}
