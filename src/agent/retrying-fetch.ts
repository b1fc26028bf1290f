import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryNotice {
  attempt: number;
  reason: string;
  delayMs: number;
}

export interface RetryingFetchOptions {
  /** Further attempts after the first. */
  retries: number;
  /** First wait; doubled each attempt, with jitter. A provider's retry-after wins when longer. */
  backoffMs: number;
  /** One attempt's limit, headers and body included. */
  attemptTimeoutMs: number;
  onRetry?(notice: RetryNotice): void;
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);
const MAX_RETRY_AFTER_MS = 60_000;

function retryAfterMs(response: Response): number {
  const header = response.headers.get('retry-after-ms') ?? response.headers.get('retry-after');
  if (!header) return 0;
  const seconds = Number(header);
  const ms = response.headers.has('retry-after-ms') ? seconds : Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : 0;
}

/**
 * The provider SDKs' own retry gives up on a request that hangs, so model calls go through this fetch:
 * each attempt has its own deadline, and rate limits, server errors, network errors and timeouts are
 * retried with backoff. The caller's signal (the investigation's wall-clock budget) ends everything.
 */
export function createRetryingFetch(options: RetryingFetchOptions): typeof fetch {
  const inner = options.fetch ?? fetch;
  return async (input, init) => {
    const outer = init?.signal ?? undefined;
    for (let attempt = 1; ; attempt += 1) {
      const attemptSignal = AbortSignal.timeout(options.attemptTimeoutMs);
      const signal = outer ? AbortSignal.any([outer, attemptSignal]) : attemptSignal;
      let reason: string;
      let wait = 0;
      try {
        const response = await inner(input, { ...init, signal });
        if (!RETRYABLE_STATUS.has(response.status) || attempt > options.retries) {
          // Read the body under the attempt deadline too: a stalled body would otherwise outlive it.
          const body = await response.arrayBuffer();
          return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
        }
        reason = `HTTP ${response.status}`;
        wait = retryAfterMs(response);
        await response.body?.cancel().catch(() => undefined);
      } catch (error) {
        if (outer?.aborted) throw error;
        if (attempt > options.retries) {
          if (attemptSignal.aborted) throw new Error(`model request timed out after ${options.attemptTimeoutMs} ms (${attempt} attempts)`, { cause: error });
          throw error;
        }
        reason = attemptSignal.aborted ? `timed out after ${options.attemptTimeoutMs} ms` : `network error: ${(error as Error).message}`;
      }
      const backoff = options.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
      const delayMs = Math.round(Math.max(wait, backoff));
      options.onRetry?.({ attempt, reason, delayMs });
      await sleep(delayMs, undefined, outer ? { signal: outer } : undefined);
    }
  };
}
