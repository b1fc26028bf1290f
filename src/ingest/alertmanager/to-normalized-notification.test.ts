import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NormalizedAlertSchema } from '../../domain/alert.js';
import { AlertmanagerWebhookSchema } from './alertmanager-webhook.schema.js';
import { labelFingerprint } from './normalize-alert.js';
import { alertmanagerToNotification } from './to-normalized-notification.js';

function fixture(name: string): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8'));
}

const normalize = (body: unknown) => alertmanagerToNotification(AlertmanagerWebhookSchema.parse(body));

const CPU_EXPRESSION = '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90';

describe('alertmanagerToNotification', () => {
  it.each(['alertmanager-firing', 'alertmanager-resolved', 'alertmanager-truncated'])('turns %s into valid NormalizedAlerts', (name) => {
    const notification = normalize(fixture(name));
    expect(notification.alerts.length).toBeGreaterThan(0);
    for (const alert of notification.alerts) expect(NormalizedAlertSchema.parse(alert)).toEqual(alert);
  });

  it('normalises a firing group of two', () => {
    const notification = normalize(fixture('alertmanager-firing'));
    expect(notification).toMatchObject({
      source: 'alertmanager',
      receiver: 'responder',
      groupKey: '{}/{severity="critical"}:{alertname="HostHighCpuLoad"}',
      truncatedAlerts: 0,
    });
    expect(notification.alerts).toHaveLength(2);
    expect(notification.alerts[0]).toEqual({
      source: 'alertmanager',
      fingerprint: '8a2f4c6e1b3d5f70',
      status: 'firing',
      name: 'HostHighCpuLoad',
      severity: 'critical',
      instance: 'web-1:9100',
      labels: { alertname: 'HostHighCpuLoad', instance: 'web-1:9100', job: 'node', severity: 'critical', team: 'platform' },
      annotations: {
        description: 'CPU load on web-1:9100 has been above 90% for 10 minutes (current value: 97.3%).',
        runbook_url: 'https://runbooks.example.com/host/high-cpu',
        summary: 'Host high CPU load (instance web-1:9100)',
      },
      startsAt: '2024-11-28T06:01:13.585Z',
      endsAt: null,
      generatorURL:
        'http://prometheus-0:9090/graph?g0.expr=100+-+%28avg+by+%28instance%29+%28rate%28node_cpu_seconds_total%7Bmode%3D%22idle%22%7D%5B5m%5D%29%29+%2A+100%29+%3E+90&g0.tab=1',
      expression: CPU_EXPRESSION,
      values: null,
    });
    expect(notification.alerts[1]).toMatchObject({ fingerprint: 'c41d9e07a3f2b658', instance: 'web-2:9100', expression: CPU_EXPRESSION });
  });

  it('normalises a resolved alert', () => {
    const [alert] = normalize(fixture('alertmanager-resolved')).alerts;
    expect(alert).toMatchObject({
      status: 'resolved',
      name: 'HostOutOfDiskSpace',
      severity: 'warning',
      instance: 'db-1:9100',
      startsAt: '2024-11-28T05:41:58.12Z',
      endsAt: '2024-11-28T06:14:58.12Z',
      expression: '(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes) * 100 < 10',
    });
  });

  it('carries the number of alerts Alertmanager left out', () => {
    const notification = normalize(fixture('alertmanager-truncated'));
    expect(notification.truncatedAlerts).toBe(3);
    expect(notification.alerts.map((a) => a.fingerprint)).toEqual(['0f3a6b9c2d5e8f11', '7b2e4d6f8a0c1e93']);
  });

  it('reads an alert without severity or instance labels as unknown severity, no instance', () => {
    const [alert] = normalize(fixture('alertmanager-truncated')).alerts;
    expect(alert).toMatchObject({ severity: 'warning', instance: null });
    const body = fixture('alertmanager-truncated');
    body.alerts[0]!.labels = { alertname: 'KubePodCrashLooping', severity: '' };
    expect(normalize(body).alerts[0]).toMatchObject({ severity: 'unknown', instance: null });
  });

  it('takes the expression from an annotation before the generator URL', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.annotations = { responder_expr: 'node_load1 > 8' };
    body.alerts[1]!.annotations = { expr: 'node_load5 > 8' };
    expect(normalize(body).alerts.map((a) => a.expression)).toEqual(['node_load1 > 8', 'node_load5 > 8']);
  });

  it('has no expression when neither an annotation nor the generator URL gives one', () => {
    const body = fixture('alertmanager-firing');
    body.alerts[0]!.generatorURL = '';
    body.alerts[1]!.generatorURL = 'http://vmalert:8880/vmalert/alert?group_id=1&alert_id=2';
    expect(normalize(body).alerts.map((a) => [a.generatorURL, a.expression])).toEqual([
      [null, null],
      ['http://vmalert:8880/vmalert/alert?group_id=1&alert_id=2', null],
    ]);
  });

  describe('an alert without a fingerprint', () => {
    const withoutFingerprint = (labels: Record<string, string>) => {
      const body = fixture('alertmanager-firing');
      delete body.alerts[0]!.fingerprint;
      body.alerts[0]!.labels = labels;
      return normalize(body).alerts[0]!.fingerprint;
    };

    it('gets 16 hex characters of sha256 over its labels', () => {
      expect(withoutFingerprint({ alertname: 'A', instance: 'h:1' })).toMatch(/^[0-9a-f]{16}$/);
    });

    it('gets the same one whatever the label order', () => {
      expect(withoutFingerprint({ alertname: 'A', instance: 'h:1', job: 'j' })).toBe(withoutFingerprint({ job: 'j', instance: 'h:1', alertname: 'A' }));
      expect(labelFingerprint({ b: '2', a: '1' })).toBe(labelFingerprint({ a: '1', b: '2' }));
    });

    it('gets a different one for different labels', () => {
      expect(labelFingerprint({ alertname: 'A', instance: 'h:1' })).not.toBe(labelFingerprint({ alertname: 'A', instance: 'h:2' }));
    });

    it('ignores empty label values, which Prometheus treats as absent labels', () => {
      expect(labelFingerprint({ alertname: 'A', instance: '' })).toBe(labelFingerprint({ alertname: 'A' }));
    });

    it('keeps the value it has today, so incidents stay grouped across upgrades', () => {
      expect(labelFingerprint({ instance: 'web-1:9100', alertname: 'HostHighCpuLoad' })).toBe('ea08605cf3fa0459');
    });
  });
});
