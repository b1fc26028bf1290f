import { createHmac, randomBytes } from 'node:crypto';

export interface TestAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  status?: 'firing' | 'resolved';
  fingerprint?: string;
  startsAt?: string;
  generatorURL?: string;
}

export function uniqueFingerprint(): string {
  return randomBytes(8).toString('hex');
}

/** An Alertmanager v4 webhook body shaped like what Alertmanager 0.25+ sends. */
export function alertmanagerPayload(alerts: TestAlert[], status: 'firing' | 'resolved' = 'firing') {
  return {
    receiver: 'responder',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? '2026-11-28T06:00:00.000Z',
      endsAt: (a.status ?? status) === 'resolved' ? '2026-11-28T06:10:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: a.generatorURL ?? 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
      fingerprint: a.fingerprint ?? uniqueFingerprint(),
    })),
    groupLabels: { alertname: alerts[0]?.labels.alertname ?? 'Test' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="Test"}',
    truncatedAlerts: 0,
  };
}

/** A Grafana unified-alerting webhook body (version "1"). */
export function grafanaPayload(alerts: TestAlert[], status: 'firing' | 'resolved' = 'firing') {
  return {
    receiver: 'responder',
    status,
    orgId: 1,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? '2026-11-28T06:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://grafana:3000/alerting/grafana/abc/view',
      fingerprint: a.fingerprint ?? uniqueFingerprint(),
      silenceURL: 'http://grafana:3000/alerting/silence/new',
      dashboardURL: '',
      panelURL: '',
      values: { A: 97.5, C: 1 },
      valueString: "[ var='A' labels={} value=97.5 ], [ var='C' labels={} value=1 ]",
    })),
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://grafana:3000/',
    version: '1',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    title: '[FIRING:1]',
    state: 'alerting',
    message: '**Firing**',
  };
}

export function signGrafana(body: string, secret: string, timestamp?: string): string {
  const signed = timestamp === undefined ? body : `${timestamp}:${body}`;
  return createHmac('sha256', secret).update(signed).digest('hex');
}
