import { z } from 'zod';
import { ResponderError } from '../domain/errors.js';

const VectorSampleSchema = z.object({ metric: z.record(z.string()), value: z.tuple([z.number(), z.string()]) });
const InstantQueryResponseSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({ resultType: z.literal('vector'), result: z.array(VectorSampleSchema) }),
    z.object({ resultType: z.literal('scalar'), result: z.tuple([z.number(), z.string()]) }),
    z.object({ resultType: z.literal('string'), result: z.tuple([z.number(), z.string()]) }),
    z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
  ]),
});
export type VectorSample = z.infer<typeof VectorSampleSchema>;

export interface PrometheusClient {
  /** Instant query; returns the vector (a scalar becomes one sample). */
  query(expression: string): Promise<VectorSample[]>;
}

export function createPrometheusClient(options: { url: string; timeoutMs: number }): PrometheusClient {
  const base = options.url.replace(/\/+$/, '');
  return {
    async query(expression) {
      let response: Response;
      try {
        response = await fetch(`${base}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query: expression }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        throw new ResponderError('prometheus_unreachable', `Prometheus at ${base} unreachable: ${(error as Error).message}`, {}, { cause: error });
      }
      const body = (await response.json().catch(() => null)) as unknown;
      const parsed = InstantQueryResponseSchema.safeParse(body);
      if (!response.ok || !parsed.success) {
        const message = (body as { error?: string } | null)?.error ?? `HTTP ${response.status}`;
        throw new ResponderError('prometheus_query_failed', `Prometheus query failed: ${message}`, { expression });
      }
      const data = parsed.data.data;
      if (data.resultType === 'vector') return data.result;
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result }];
      return [];
    },
  };
}
