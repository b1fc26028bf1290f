import { describe, expect, it } from 'vitest';
import type { PrometheusRule } from '../tools/prometheus-api.js';
import { resolveTrustedExpression } from './trusted-expression.js';

const rule = (overrides: Partial<PrometheusRule>): PrometheusRule => ({
  name: 'DiskFull',
  type: 'alerting',
  query: 'node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1',
  labels: { severity: 'warning' },
  annotations: {},
  alerts: [],
  group: 'node',
  ...overrides,
});

const incident = { alertName: 'DiskFull', labels: { alertname: 'DiskFull', severity: 'warning', instance: 'db1' }, expression: 'vector(0)' };

describe('resolveTrustedExpression', () => {
  it("uses the rule's expression from the rules API, never the alert's claim", async () => {
    const trusted = await resolveTrustedExpression({ incident, rules: async () => [rule({})], trustAlertExpressions: false });
    expect(trusted).toMatchObject({ expression: rule({}).query, source: 'rules-api', alertClaim: 'vector(0)' });
  });

  it('matches by name and by every static label of the rule', async () => {
    const rules = [rule({ labels: { severity: 'critical' }, query: 'critical_query' }), rule({ name: 'Other', query: 'other' }), rule({ type: 'recording', query: 'recording' }), rule({})];
    expect((await resolveTrustedExpression({ incident, rules: async () => rules, trustAlertExpressions: false })).expression).toBe(rule({}).query);
  });

  it('runs nothing when no rule or several different rules match, or Prometheus cannot be read', async () => {
    expect(await resolveTrustedExpression({ incident, rules: async () => [], trustAlertExpressions: false })).toMatchObject({ expression: null, source: 'none' });
    const twins = [rule({ labels: {}, query: 'a' }), rule({ labels: {}, query: 'b' })];
    expect((await resolveTrustedExpression({ incident, rules: async () => twins, trustAlertExpressions: false })).reason).toContain('2 different rules named DiskFull');
    const failing = await resolveTrustedExpression({ incident, rules: async () => Promise.reject(new Error('HTTP 503')), trustAlertExpressions: false });
    expect(failing).toMatchObject({ expression: null, source: 'none', reason: "could not read Prometheus's rules: HTTP 503" });
    expect(await resolveTrustedExpression({ incident, rules: null, trustAlertExpressions: false })).toMatchObject({ expression: null, source: 'none' });
  });

  it("uses the alert's expression only when intake.trustAlertExpressions is on", async () => {
    expect(await resolveTrustedExpression({ incident, rules: null, trustAlertExpressions: true })).toMatchObject({ expression: 'vector(0)', source: 'alert' });
  });
});
