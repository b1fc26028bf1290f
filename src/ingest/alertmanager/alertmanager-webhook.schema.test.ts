import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlertmanagerWebhookSchema } from './alertmanager-webhook.schema.js';

function fixture(name: string): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8'));
}

function issuePaths(body: unknown): string[] {
  const result = AlertmanagerWebhookSchema.safeParse(body);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('AlertmanagerWebhookSchema', () => {
  it.each(['alertmanager-firing', 'alertmanager-resolved', 'alertmanager-truncated'])('accepts the captured %s payload', (name) => {
    expect(AlertmanagerWebhookSchema.safeParse(fixture(name)).success).toBe(true);
  });

  it('reads a firing alert’s zero endsAt as "not ended"', () => {
    const parsed = AlertmanagerWebhookSchema.parse(fixture('alertmanager-firing'));
    expect(parsed.alerts.map((a) => a.endsAt)).toEqual([null, null]);
  });

  it('keeps a resolved alert’s endsAt', () => {
    const parsed = AlertmanagerWebhookSchema.parse(fixture('alertmanager-resolved'));
    expect(parsed.alerts[0]!.endsAt).toBe('2024-11-28T06:14:58.12Z');
  });

  it('keeps the count of alerts Alertmanager left out', () => {
    expect(AlertmanagerWebhookSchema.parse(fixture('alertmanager-truncated')).truncatedAlerts).toBe(3);
  });

  it('reads a missing truncatedAlerts as none left out', () => {
    const { truncatedAlerts: _, ...body } = fixture('alertmanager-firing');
    expect(AlertmanagerWebhookSchema.parse(body).truncatedAlerts).toBe(0);
  });

  it('keeps fields it does not know, at the top and on each alert', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.origin = 'prometheus-0';
    const parsed = AlertmanagerWebhookSchema.parse({ ...body, tenant: 'blue' });
    expect(parsed.tenant).toBe('blue');
    expect(parsed.alerts[0]!.origin).toBe('prometheus-0');
  });

  it('reads null maps from Go as empty', () => {
    const body = fixture('alertmanager-resolved');
    body.alerts[0]!.annotations = null;
    const parsed = AlertmanagerWebhookSchema.parse({ ...body, commonAnnotations: null, groupLabels: null });
    expect(parsed.alerts[0]!.annotations).toEqual({});
    expect(parsed.commonAnnotations).toEqual({});
    expect(parsed.groupLabels).toEqual({});
  });

  it.each(['3', 4, undefined])('refuses version %s', (version) => {
    expect(issuePaths({ ...fixture('alertmanager-firing'), version })).toEqual(['version']);
  });

  it.each(['alerts', 'status', 'groupKey', 'receiver'])('refuses a payload without %s', (field) => {
    const body = fixture('alertmanager-firing');
    delete body[field];
    expect(issuePaths(body)).toEqual([field]);
  });

  it.each(['labels', 'status', 'startsAt'])('refuses an alert without %s and says which', (field) => {
    const body = fixture('alertmanager-firing');
    delete body.alerts[1]![field];
    expect(issuePaths(body)).toEqual([`alerts.1.${field}`]);
  });

  it('refuses an alert status other than firing or resolved', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.status = 'pending';
    expect(issuePaths(body)).toEqual(['alerts.0.status']);
  });

  it('refuses a label value that is not a string', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.labels = { alertname: 'X', port: 9100 };
    expect(issuePaths(body)).toEqual(['alerts.0.labels.port']);
  });

  it('refuses a startsAt that is not an RFC 3339 time', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.startsAt = 'yesterday';
    expect(issuePaths(body)).toEqual(['alerts.0.startsAt']);
  });

  it('refuses a negative truncatedAlerts', () => {
    expect(issuePaths({ ...fixture('alertmanager-firing'), truncatedAlerts: -1 })).toEqual(['truncatedAlerts']);
  });
});
