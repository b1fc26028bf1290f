import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { IncidentStateSchema } from '../domain/incident.js';
import type { Investigation } from '../domain/investigation.js';

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'source' | 'outcome'>;
  stageDuration: Histogram<'stage' | 'outcome'>;
  timed<T>(stage: string, work: () => Promise<T>): Promise<T>;
  recordInvestigation(investigation: Investigation): void;
  /** A finished remediation run: dry-run, execute or rollback, its final state and, when failed, why. */
  recordRun(kind: string, state: string, failure: string | null): void;
}

export function createMetrics(countIncidentsByState: () => Promise<Record<string, number>>): Metrics {
  const registry = new Registry();
  // prom-client's default metrics already carry their family (process_cpu_seconds_total, nodejs_heap_…):
  // the prefix only adds the service, so they read responder_process_cpu_seconds_total.
  collectDefaultMetrics({ register: registry, prefix: 'responder_' });
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
      // Every state, zeros included: an alert on responder_incidents{state="unverified"} > 0 needs the series to exist.
      const counts = await countIncidentsByState();
      for (const state of new Set([...IncidentStateSchema.options, ...Object.keys(counts)])) this.set({ state }, counts[state] ?? 0);
    },
  });
  const llmTokens = new Counter({
    name: 'responder_llm_tokens_total',
    help: 'Tokens sent to (input) and received from (output) the model, as the provider reported them.',
    labelNames: ['provider', 'model', 'direction'] as const,
    registers: [registry],
  });
  const llmCachedTokens = new Counter({
    name: 'responder_llm_cached_input_tokens_total',
    help: 'Of the input tokens, those the provider read from its prompt cache (already counted in responder_llm_tokens_total).',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
  });
  const llmCost = new Counter({
    name: 'responder_llm_cost_usd_total',
    help: 'Estimated model cost in USD, from agent.pricing.',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
  });
  const investigations = new Counter({
    name: 'responder_investigations_total',
    help: 'Agent investigations by outcome (proposed, no-action, fallback).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const tokensPerIncident = new Histogram({
    name: 'responder_investigation_tokens',
    help: 'Tokens (input + output) spent on one incident\'s investigation.',
    buckets: [1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000],
    registers: [registry],
  });
  const costPerIncident = new Histogram({
    name: 'responder_investigation_cost_usd',
    help: 'Estimated model cost in USD of one incident\'s investigation.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: 'responder_agent_tool_calls_total',
    help: 'MCP tool calls made by the agent, by server, tool and outcome (ok, error, truncated).',
    labelNames: ['server', 'tool', 'outcome'] as const,
    registers: [registry],
  });
  const remediationRuns = new Counter({
    name: 'responder_remediation_runs_total',
    help: 'Finished remediation runs by kind (dry-run, execute, rollback), state (succeeded, failed, timed_out, cancelled, skipped, unknown) and failure (no-hosts-matched, exit-status, ...; "" when none).',
    labelNames: ['kind', 'state', 'failure'] as const,
    registers: [registry],
  });
  return {
    registry,
    webhookRequests,
    stageDuration,
    recordRun(kind, state, failure) {
      remediationRuns.inc({ kind, state, failure: failure ?? '' });
    },
    recordInvestigation(investigation) {
      const labels = { provider: investigation.provider, model: investigation.model };
      llmTokens.inc({ ...labels, direction: 'input' }, investigation.usage.inputTokens);
      llmTokens.inc({ ...labels, direction: 'output' }, investigation.usage.outputTokens);
      llmCachedTokens.inc(labels, investigation.usage.cachedInputTokens);
      llmCost.inc(labels, investigation.usage.costUsd);
      investigations.inc({ outcome: investigation.outcome });
      tokensPerIncident.observe(investigation.usage.totalTokens);
      costPerIncident.observe(investigation.usage.costUsd);
      for (const entry of investigation.transcript) {
        if (entry.kind !== 'tool-call') continue;
        toolCalls.inc({ server: entry.server, tool: entry.tool, outcome: entry.isError ? 'error' : entry.truncated ? 'truncated' : 'ok' });
      }
    },
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

/** How far the audit shipper is behind the chain; null while nothing is shipped. */
export interface AuditShippingLagSource {
  shippingLag(): Promise<{ events: number; seconds: number }> | null;
}

/** Shipping lag gauges, read from the database at each scrape so they hold across restarts and replicas. */
export function addAuditShippingMetrics(metrics: Pick<Metrics, 'registry'>, source: AuditShippingLagSource, destination = 'loki'): void {
  new Gauge({
    name: 'responder_audit_shipping_lag_events',
    help: 'Sealed audit events not yet shipped, by destination.',
    labelNames: ['destination'] as const,
    registers: [metrics.registry],
    async collect() {
      const lag = await source.shippingLag();
      if (lag) this.set({ destination }, lag.events);
    },
  });
  new Gauge({
    name: 'responder_audit_shipping_lag_seconds',
    help: 'Age of the oldest sealed audit event not yet shipped, by destination (0 when caught up).',
    labelNames: ['destination'] as const,
    registers: [metrics.registry],
    async collect() {
      const lag = await source.shippingLag();
      if (lag) this.set({ destination }, lag.seconds);
    },
  });
}

/** Messages waiting in the outbox per channel (Matrix, each webhook and ntfy topic). */
export interface OutboxLagSource {
  channels: readonly string[];
  lag(): Promise<readonly { channel: string; pending: number; seconds: number }[]>;
}

/** Outbox lag gauges, read from the database at each scrape: a receiver that is down shows as growing age. */
export function addOutboxMetrics(metrics: Pick<Metrics, 'registry'>, source: OutboxLagSource): void {
  const read = async () => {
    const lag = new Map((await source.lag()).map((l) => [l.channel, l]));
    return source.channels.map((channel) => lag.get(channel) ?? { channel, pending: 0, seconds: 0 });
  };
  new Gauge({
    name: 'responder_outbox_pending_messages',
    help: 'Messages queued for a notification or chat channel and not yet delivered (refused ones excluded).',
    labelNames: ['channel'] as const,
    registers: [metrics.registry],
    async collect() {
      for (const l of await read()) this.set({ channel: l.channel }, l.pending);
    },
  });
  new Gauge({
    name: 'responder_outbox_lag_seconds',
    help: 'Age of the oldest undelivered message per channel (0 when caught up).',
    labelNames: ['channel'] as const,
    registers: [metrics.registry],
    async collect() {
      for (const l of await read()) this.set({ channel: l.channel }, l.seconds);
    },
  });
}
