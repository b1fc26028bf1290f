import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GrafanaWebhookSchema } from './grafana-webhook.schema.js';

function fixture(name: string): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8'));
}

function issuePaths(body: unknown): string[] {
  const result = GrafanaWebhookSchema.safeParse(body);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('GrafanaWebhookSchema', () => {
  it.each(['grafana-firing', 'grafana-resolved', 'grafana-reason-and-extras'])('accepts the captured %s payload', (name) => {
    expect(GrafanaWebhookSchema.safeParse(fixture(name)).success).toBe(true);
  });

  it('keeps values, valueString and the Grafana links', () => {
    const [alert] = GrafanaWebhookSchema.parse(fixture('grafana-firing')).alerts;
    expect(alert!.values).toEqual({ A: 93.71428571428572, B: 93.71428571428572, C: 1 });
    expect(alert!.valueString).toContain("var='A'");
    expect(alert!.silenceURL).toMatch(/^https:\/\/grafana\.example\.com\/alerting\/silence\/new\?/);
    expect(alert!.panelURL).toMatch(/viewPanel=3$/);
  });

  it('reads Go’s zero endsAt as "not ended" and keeps a resolved one with its offset', () => {
    expect(GrafanaWebhookSchema.parse(fixture('grafana-firing')).alerts[0]!.endsAt).toBeNull();
    expect(GrafanaWebhookSchema.parse(fixture('grafana-resolved')).alerts[0]!.endsAt).toBe('2024-11-28T07:21:10+01:00');
  });

  it('reads null or absent values as none, and empty links as none', () => {
    const [alert] = GrafanaWebhookSchema.parse(fixture('grafana-reason-and-extras')).alerts;
    expect(alert).toMatchObject({ values: null, dashboardURL: null, panelURL: null });
    const body = fixture('grafana-firing');
    delete body.alerts[0]!.values;
    expect(GrafanaWebhookSchema.parse(body).alerts[0]!.values).toBeNull();
  });

  it('accepts a value that is null', () => {
    const body = fixture('grafana-firing');
    body.alerts[0]!.values = { A: null, C: 0 };
    expect(GrafanaWebhookSchema.parse(body).alerts[0]!.values).toEqual({ A: null, C: 0 });
  });

  it('keeps notification_reason and fields it does not know', () => {
    const parsed = GrafanaWebhookSchema.parse(fixture('grafana-reason-and-extras'));
    expect(parsed.notification_reason).toBe('new_alerts');
    expect(parsed.receiverType).toBe('webhook');
    expect(parsed.alerts[0]!.orgId).toBe(1);
  });

  it('accepts a payload without Grafana’s optional fields', () => {
    const { title: _t, state: _s, message: _m, orgId: _o, truncatedAlerts: _tr, ...body } = fixture('grafana-firing');
    const parsed = GrafanaWebhookSchema.parse(body);
    expect(parsed.truncatedAlerts).toBe(0);
    expect(parsed.notification_reason).toBeUndefined();
  });

  it.each(['4', 1, undefined])('refuses version %s', (version) => {
    expect(issuePaths({ ...fixture('grafana-firing'), version })).toEqual(['version']);
  });

  it.each(['alerts', 'status', 'groupKey', 'receiver'])('refuses a payload without %s', (field) => {
    const body = fixture('grafana-firing');
    delete body[field];
    expect(issuePaths(body)).toEqual([field]);
  });

  it.each(['labels', 'status'])('refuses an alert without %s and says which', (field) => {
    const body = fixture('grafana-firing');
    delete body.alerts[0]![field];
    expect(issuePaths(body)).toEqual([`alerts.0.${field}`]);
  });

  it('refuses a value that is not a number', () => {
    const body = fixture('grafana-firing');
    body.alerts[0]!.values = { A: '93.7' };
    expect(issuePaths(body)).toEqual(['alerts.0.values.A']);
  });
});
