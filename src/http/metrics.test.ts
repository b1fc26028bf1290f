import { describe, expect, it } from 'vitest';
import { addAuditShippingMetrics, addOutboxMetrics, createMetrics } from './metrics.js';

describe('audit shipping metrics', () => {
  it('publish how many sealed events wait to be shipped and for how long, read at each scrape', async () => {
    const metrics = createMetrics(async () => ({}));
    let lag = { events: 3, seconds: 12.5 };
    addAuditShippingMetrics(metrics, { shippingLag: async () => lag });
    let text = await metrics.registry.metrics();
    expect(text).toContain('responder_audit_shipping_lag_events{destination="loki"} 3');
    expect(text).toContain('responder_audit_shipping_lag_seconds{destination="loki"} 12.5');
    lag = { events: 0, seconds: 0 };
    text = await metrics.registry.metrics();
    expect(text).toContain('responder_audit_shipping_lag_events{destination="loki"} 0');
  });

  it('publish no series while nothing is shipped', async () => {
    const metrics = createMetrics(async () => ({}));
    addAuditShippingMetrics(metrics, { shippingLag: () => null });
    expect(await metrics.registry.metrics()).not.toMatch(/responder_audit_shipping_lag_events\{/);
  });
});

describe('incidents by state', () => {
  it('publish every state, zero included, so an alert on unverified incidents has a series to watch', async () => {
    const metrics = createMetrics(async () => ({ resolved: 2, unverified: 1 }));
    const text = await metrics.registry.metrics();
    expect(text).toContain('responder_incidents{state="unverified"} 1');
    expect(text).toContain('responder_incidents{state="resolved"} 2');
    expect(text).toContain('responder_incidents{state="failed"} 0');
  });
});

describe('outbox metrics', () => {
  it('publish pending messages and the oldest one’s age per channel, zero for a channel with nothing waiting', async () => {
    const metrics = createMetrics(async () => ({}));
    addOutboxMetrics(metrics, { channels: ['matrix', 'ntfy:phone'], lag: async () => [{ channel: 'ntfy:phone', pending: 4, seconds: 93.5 }] });
    const text = await metrics.registry.metrics();
    expect(text).toContain('responder_outbox_pending_messages{channel="ntfy:phone"} 4');
    expect(text).toContain('responder_outbox_lag_seconds{channel="ntfy:phone"} 93.5');
    expect(text).toContain('responder_outbox_pending_messages{channel="matrix"} 0');
  });
});

describe('remediation runs', () => {
  it('count each finished run by kind, state and why it failed', async () => {
    const metrics = createMetrics(async () => ({}));
    metrics.recordRun('dry-run', 'failed', 'no-hosts-matched');
    metrics.recordRun('execute', 'succeeded', null);
    metrics.recordRun('execute', 'succeeded', null);
    const text = await metrics.registry.metrics();
    expect(text).toContain('responder_remediation_runs_total{kind="dry-run",state="failed",failure="no-hosts-matched"} 1');
    expect(text).toContain('responder_remediation_runs_total{kind="execute",state="succeeded",failure=""} 2');
  });
});
