import { z } from 'zod';
import { BackendError } from '../domain/errors.js';
import { errorText, fetchBackend, unixSeconds, type BackendResponse } from './fetch-backend.js';

const LabelsSchema = z.record(z.string());
const SampleValueSchema = z.tuple([z.number(), z.string()]);

const InstantSampleSchema = z.object({ metric: LabelsSchema, value: SampleValueSchema });
const RangeSeriesSchema = z.object({ metric: LabelsSchema, values: z.array(SampleValueSchema) });

const QueryDataSchema = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(InstantSampleSchema) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(RangeSeriesSchema) }),
  z.object({ resultType: z.literal('scalar'), result: SampleValueSchema }),
  z.object({ resultType: z.literal('string'), result: SampleValueSchema }),
]);

// Prometheus omits empty maps and lists in places (recording rules have no annotations), hence the defaults.
const PrometheusAlertSchema = z.object({
  labels: LabelsSchema.default({}),
  annotations: LabelsSchema.default({}),
  state: z.string(),
  activeAt: z.string().optional(),
  value: z.string().optional(),
});

const PrometheusRuleSchema = z.object({
  name: z.string(),
  type: z.enum(['alerting', 'recording']),
  query: z.string(),
  state: z.string().optional(),
  health: z.string().optional(),
  labels: LabelsSchema.nullish().transform((labels) => labels ?? {}),
  annotations: LabelsSchema.nullish().transform((annotations) => annotations ?? {}),
  alerts: z.array(PrometheusAlertSchema).nullish().transform((alerts) => alerts ?? []),
});

const RulesDataSchema = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(PrometheusRuleSchema) })),
});
const AlertsDataSchema = z.object({ alerts: z.array(PrometheusAlertSchema) });
const StringListSchema = z.array(z.string()).nullish().transform((list) => list ?? []);

const SuccessSchema = z.object({ status: z.literal('success'), data: z.unknown(), warnings: z.array(z.string()).optional() });
const FailureSchema = z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string() });

/** `rawBytes` is the size of the backend's HTTP response body, so callers can measure what compaction saved. */
export interface Fetched<T> {
  data: T;
  rawBytes: number;
}
export type InstantSample = z.infer<typeof InstantSampleSchema>;
export type RangeSeries = z.infer<typeof RangeSeriesSchema>;
export type PrometheusAlert = z.infer<typeof PrometheusAlertSchema>;
export type PrometheusRule = z.infer<typeof PrometheusRuleSchema> & { group: string };

export interface LabelQueryOptions {
  /** Series selectors, e.g. `up{job="node"}`; only labels of matching series count. */
  match?: string[];
  start?: Date;
  end?: Date;
}

export interface PrometheusApi {
  url: string;
  /** A scalar or string result comes back as one sample with no labels. */
  instant(expr: string, time?: Date): Promise<Fetched<InstantSample[]>>;
  range(expr: string, start: Date, end: Date, stepSeconds: number): Promise<Fetched<RangeSeries[]>>;
  labelValues(label: string, options?: LabelQueryOptions): Promise<Fetched<string[]>>;
  labelNames(options?: LabelQueryOptions): Promise<Fetched<string[]>>;
  rules(): Promise<Fetched<PrometheusRule[]>>;
  alerts(): Promise<Fetched<PrometheusAlert[]>>;
}

function unexpectedShape(error: z.ZodError, context: Record<string, unknown>): BackendError {
  const problem = error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  return new BackendError('prometheus_query_failed', `Prometheus answered in an unexpected shape: ${problem}`, context);
}

function labelParams(options: LabelQueryOptions = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const selector of options.match ?? []) params.append('match[]', selector);
  if (options.start) params.set('start', unixSeconds(options.start));
  if (options.end) params.set('end', unixSeconds(options.end));
  return params;
}

/** Prometheus' HTTP API (`/api/v1/...`): every answer is parsed at the edge, every error carries Prometheus' own words. */
export function createPrometheusApi(options: { url: string; timeoutMs: number }): PrometheusApi {
  const base = options.url.replace(/\/+$/, '');

  async function call<T>(path: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, params: URLSearchParams, method: 'GET' | 'POST', context: Record<string, unknown>): Promise<Fetched<T>> {
    const url = method === 'GET' && params.size > 0 ? `${base}${path}?${params}` : `${base}${path}`;
    const response: BackendResponse = await fetchBackend(url, {
      method,
      ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params } : {}),
      timeoutMs: options.timeoutMs,
      backend: 'Prometheus',
      unreachableCode: 'prometheus_unreachable',
    });
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      throw new BackendError('prometheus_query_failed', `Prometheus answered HTTP ${response.status} with a body that is not JSON: ${errorText(response.body)}`, { ...context, status: response.status });
    }
    const failure = FailureSchema.safeParse(json);
    if (failure.success || !response.ok) {
      const text = failure.success ? `${failure.data.errorType ? `${failure.data.errorType}: ` : ''}${failure.data.error}` : `HTTP ${response.status}: ${errorText(response.body)}`;
      throw new BackendError('prometheus_query_failed', `Prometheus rejected the request: ${text}`, { ...context, status: response.status });
    }
    const success = SuccessSchema.safeParse(json);
    if (!success.success) throw unexpectedShape(success.error, context);
    const parsed = schema.safeParse(success.data.data);
    if (!parsed.success) throw unexpectedShape(parsed.error, { ...context, path: 'data' });
    return { data: parsed.data, rawBytes: response.rawBytes };
  }

  return {
    url: base,
    async instant(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time) params.set('time', unixSeconds(time));
      const { data, rawBytes } = await call('/api/v1/query', QueryDataSchema, params, 'POST', { expr });
      switch (data.resultType) {
        case 'vector':
          return { data: data.result, rawBytes };
        case 'scalar':
        case 'string':
          return { data: [{ metric: {}, value: data.result }], rawBytes };
        case 'matrix':
          // A bare range selector (`up[5m]`) in an instant query: its latest sample stands for the series.
          return { data: data.result.flatMap((s) => (s.values.length > 0 ? [{ metric: s.metric, value: s.values[s.values.length - 1]! }] : [])), rawBytes };
      }
    },
    async range(expr, start, end, stepSeconds) {
      const params = new URLSearchParams({ query: expr, start: unixSeconds(start), end: unixSeconds(end), step: String(stepSeconds) });
      const { data, rawBytes } = await call('/api/v1/query_range', QueryDataSchema, params, 'POST', { expr });
      if (data.resultType !== 'matrix') throw new BackendError('prometheus_query_failed', `Prometheus answered a range query with a ${data.resultType}`, { expr });
      return { data: data.result, rawBytes };
    },
    labelValues(label, labelOptions) {
      return call(`/api/v1/label/${encodeURIComponent(label)}/values`, StringListSchema, labelParams(labelOptions), 'GET', { label });
    },
    labelNames(labelOptions) {
      return call('/api/v1/labels', StringListSchema, labelParams(labelOptions), 'GET', {});
    },
    async rules() {
      const { data, rawBytes } = await call('/api/v1/rules', RulesDataSchema, new URLSearchParams(), 'GET', {});
      return { data: data.groups.flatMap((group) => group.rules.map((rule) => ({ ...rule, group: group.name }))), rawBytes };
    },
    async alerts() {
      const { data, rawBytes } = await call('/api/v1/alerts', AlertsDataSchema, new URLSearchParams(), 'GET', {});
      return { data: data.alerts, rawBytes };
    },
  };
}
