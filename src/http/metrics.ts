import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'source' | 'outcome'>;
  stageDuration: Histogram<'stage' | 'outcome'>;
  timed<T>(stage: string, work: () => Promise<T>): Promise<T>;
}

export function createMetrics(countIncidentsByState: () => Promise<Record<string, number>>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'responder_process_' });
  const webhookRequests = new Counter({
    name: 'responder_webhook_requests_total',
    help: 'Webhook deliveries by source and outcome (accepted, unauthorized, bad_request, too_large, unsupported_media_type, error).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const stageDuration = new Histogram({
    name: 'responder_stage_duration_seconds',
    help: 'Duration of incident workflow stages.',
    labelNames: ['stage', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  new Gauge({
    name: 'responder_incidents',
    help: 'Incidents by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, count] of Object.entries(await countIncidentsByState())) this.set({ state }, count);
    },
  });
  return {
    registry,
    webhookRequests,
    stageDuration,
    async timed(stage, work) {
      const end = stageDuration.startTimer({ stage });
      try {
        const result = await work();
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        end({ outcome: 'error' });
        throw error;
      }
    },
  };
}
