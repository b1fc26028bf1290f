import { createHash } from 'node:crypto';
import type { AlertSource, NormalizedAlert } from '../../domain/alert.js';
import type { AlertmanagerAlert } from './alertmanager-webhook.schema.js';

/**
 * A stable identity for an alert that came without a fingerprint: sha256 over its sorted labels.
 * Sorting compares code units, not locale order, so every process on every machine agrees; empty
 * values are left out because Prometheus treats `x=""` as no label `x`.
 */
export function labelFingerprint(labels: Record<string, string>): string {
  const entries = Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
}

/** The fields every Alertmanager-shaped alert has; each source supplies what only it knows. */
export function normalizeAlert(
  source: AlertSource,
  alert: AlertmanagerAlert,
  known: Pick<NormalizedAlert, 'expression' | 'values'>,
): NormalizedAlert {
  const { labels } = alert;
  return {
    source,
    fingerprint: alert.fingerprint ?? labelFingerprint(labels),
    status: alert.status,
    // An empty label value means the label is absent, as in Prometheus.
    name: labels.alertname || '',
    severity: labels.severity || 'unknown',
    instance: labels.instance || null,
    labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    generatorURL: alert.generatorURL,
    expression: known.expression,
    values: known.values,
  };
}
