import { z } from 'zod';
import { BackendError } from '../domain/errors.js';
import { errorText, fetchBackend } from './fetch-backend.js';
import type { Fetched } from './prometheus-api.js';

// A third element per entry carries structured metadata (Loki 3 with categorised labels); it is dropped.
const LokiStreamSchema = z.object({
  stream: z.record(z.string()),
  values: z.array(z.tuple([z.string(), z.string()]).rest(z.unknown()).transform(([ns, line]): [string, string] => [ns, line])),
});

const QueryRangeResponseSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({ resultType: z.literal('streams'), result: z.array(LokiStreamSchema) }),
    z.object({ resultType: z.enum(['matrix', 'vector', 'scalar']), result: z.unknown() }),
  ]),
});

// Loki leaves `data` out when nothing matched.
const LabelListResponseSchema = z.object({
  status: z.literal('success'),
  data: z.array(z.string()).nullish().transform((list) => list ?? []),
});

/** `values` are `[unix nanoseconds, line]`. */
export type LokiStream = z.infer<typeof LokiStreamSchema>;

export interface LokiQueryOptions {
  start: Date;
  end: Date;
  /** Entries across all streams, as Loki counts it. */
  limit: number;
  /** Loki's default is backward: newest first. */
  direction?: 'backward' | 'forward';
}

export interface LokiApi {
  url: string;
  queryRange(logql: string, options: LokiQueryOptions): Promise<Fetched<LokiStream[]>>;
  labels(options?: { start?: Date; end?: Date }): Promise<Fetched<string[]>>;
  labelValues(name: string, options?: { start?: Date; end?: Date }): Promise<Fetched<string[]>>;
}

function nanoseconds(date: Date): string {
  return `${BigInt(date.getTime()) * 1_000_000n}`;
}

function rangeParams(options: { start?: Date; end?: Date } = {}): URLSearchParams {
  const params = new URLSearchParams();
  if (options.start) params.set('start', nanoseconds(options.start));
  if (options.end) params.set('end', nanoseconds(options.end));
  return params;
}

/** Loki's query HTTP API. Loki answers errors in plain text (a LogQL parse error, say); that text is kept. */
export function createLokiApi(options: { url: string; timeoutMs: number; tenantId?: string }): LokiApi {
  const base = options.url.replace(/\/+$/, '');
  const headers: Record<string, string> = options.tenantId ? { 'X-Scope-OrgID': options.tenantId } : {};

  async function get<T>(path: string, params: URLSearchParams, schema: z.ZodType<T, z.ZodTypeDef, unknown>, context: Record<string, unknown>): Promise<Fetched<T>> {
    const query = params.size > 0 ? `?${params}` : '';
    const response = await fetchBackend(`${base}${path}${query}`, {
      method: 'GET',
      headers,
      timeoutMs: options.timeoutMs,
      backend: 'Loki',
      unreachableCode: 'loki_unreachable',
    });
    if (!response.ok) {
      throw new BackendError('loki_query_failed', `Loki rejected the request (HTTP ${response.status}): ${errorText(response.body)}`, { ...context, status: response.status });
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      throw new BackendError('loki_query_failed', `Loki answered with a body that is not JSON: ${errorText(response.body)}`, context);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new BackendError('loki_query_failed', `Loki answered in an unexpected shape: ${problem}`, context);
    }
    return { data: parsed.data, rawBytes: response.rawBytes };
  }

  return {
    url: base,
    async queryRange(logql, queryOptions) {
      const params = rangeParams(queryOptions);
      params.set('query', logql);
      params.set('limit', String(queryOptions.limit));
      params.set('direction', queryOptions.direction ?? 'backward');
      const { data, rawBytes } = await get('/loki/api/v1/query_range', params, QueryRangeResponseSchema, { logql });
      if (data.data.resultType !== 'streams') {
        throw new BackendError(
          'loki_query_failed',
          `the query is a metric query (Loki answered a ${data.data.resultType}); only log queries that return lines are supported here, e.g. {app="web"} |= "error"`,
          { logql },
        );
      }
      return { data: data.data.result, rawBytes };
    },
    async labels(rangeOptions) {
      const { data, rawBytes } = await get('/loki/api/v1/labels', rangeParams(rangeOptions), LabelListResponseSchema, {});
      return { data: data.data, rawBytes };
    },
    async labelValues(name, rangeOptions) {
      const { data, rawBytes } = await get(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, rangeParams(rangeOptions), LabelListResponseSchema, { label: name });
      return { data: data.data, rawBytes };
    },
  };
}
