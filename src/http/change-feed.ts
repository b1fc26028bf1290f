export interface IncidentChange {
  id: string;
  state: string;
  updatedAt: string;
}

export interface ChangeFeed {
  /** Calls `listener` with every incident change until the returned function is called. */
  subscribe(listener: (change: IncidentChange) => void): () => void;
  stop(): void;
}

/**
 * One poller for every open page: the database is the source of changes, so a page sees what any
 * replica did. It polls only while someone is listening.
 */
export function createChangeFeed(options: { changedSince(since: string): Promise<IncidentChange[]>; intervalMs?: number; onError?(error: unknown): void }): ChangeFeed {
  const listeners = new Set<(change: IncidentChange) => void>();
  let since = new Date().toISOString();
  let timer: NodeJS.Timeout | null = null;
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      for (const change of await options.changedSince(since)) {
        if (change.updatedAt > since) since = change.updatedAt;
        for (const listener of listeners) listener(change);
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  };
  return {
    subscribe(listener) {
      if (listeners.size === 0) {
        since = new Date().toISOString();
        timer = setInterval(() => void poll(), options.intervalMs ?? 1000);
        timer.unref();
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    stop() {
      listeners.clear();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
