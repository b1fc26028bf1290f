import type { InstantSample, PrometheusApi } from '../tools/prometheus-api.js';

export type VectorSample = InstantSample;

/** What evidence and verification need of Prometheus: the vector an instant query returns now. */
export interface PrometheusClient {
  query(expression: string): Promise<VectorSample[]>;
}

/** The one Prometheus HTTP client (the agent's tools use it too), narrowed to an instant query. */
export function createPrometheusClient(api: PrometheusApi): PrometheusClient {
  return { query: async (expression) => (await api.instant(expression)).data };
}
