/** One log entry for Loki: its stream labels, unix-nanosecond timestamp, line and structured metadata. */
export interface LokiEntry {
  labels: Record<string, string>;
  ns: string;
  line: string;
  metadata: Record<string, string>;
}

/**
 * accepted: stored. refused: Loki will not take this request as it is (a bad or too old entry, too large),
 * so sending it again cannot help. unavailable: worth retrying later (down, overloaded, rate-limited, or a
 * credential or tenant problem that someone can fix without the entries being lost).
 */
export type PushOutcome = { kind: 'accepted' } | { kind: 'refused'; status: number; message: string } | { kind: 'unavailable'; status: number | null; message: string };

export interface LokiPusher {
  push(entries: readonly LokiEntry[], options: { structuredMetadata: boolean }): Promise<PushOutcome>;
}

// 401/403/404: a wrong credential, tenant or URL is fixed by a person; until then keep the entries.
const RETRYABLE_CLIENT_ERRORS = new Set([401, 403, 404, 408, 429]);

function streamsOf(entries: readonly LokiEntry[], structuredMetadata: boolean) {
  const streams = new Map<string, { stream: Record<string, string>; values: unknown[][] }>();
  for (const entry of entries) {
    const key = JSON.stringify(Object.entries(entry.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let stream = streams.get(key);
    if (!stream) {
      stream = { stream: entry.labels, values: [] };
      streams.set(key, stream);
    }
    stream.values.push(structuredMetadata && Object.keys(entry.metadata).length > 0 ? [entry.ns, entry.line, entry.metadata] : [entry.ns, entry.line]);
  }
  return [...streams.values()];
}

/** Loki's push API (`POST /loki/api/v1/push`, JSON). */
export function createLokiPusher(options: { url: string; tenantId?: string; timeoutMs: number }): LokiPusher {
  const endpoint = `${options.url.replace(/\/+$/, '')}/loki/api/v1/push`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.tenantId ? { 'X-Scope-OrgID': options.tenantId } : {}) };
  return {
    async push(entries, { structuredMetadata }) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ streams: streamsOf(entries, structuredMetadata) }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        return { kind: 'unavailable', status: null, message: `${(error as Error).message}${cause ? ` (${cause})` : ''}` };
      }
      const text = (await response.text().catch(() => '')).trim().slice(0, 1000);
      if (response.ok) return { kind: 'accepted' };
      if (response.status >= 500 || RETRYABLE_CLIENT_ERRORS.has(response.status)) return { kind: 'unavailable', status: response.status, message: text || response.statusText };
      return { kind: 'refused', status: response.status, message: text || response.statusText };
    },
  };
}
