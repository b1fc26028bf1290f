import type { NormalizedNotification } from '../../domain/alert.js';
import { expressionFromAnnotations } from '../alertmanager/alert-expression.js';
import { normalizeAlert } from '../alertmanager/normalize-alert.js';
import type { GrafanaWebhook } from './grafana-webhook.schema.js';

export function grafanaToNotification(payload: GrafanaWebhook): NormalizedNotification {
  return {
    source: 'grafana',
    receiver: payload.receiver,
    groupKey: payload.groupKey,
    truncatedAlerts: payload.truncatedAlerts,
    alerts: payload.alerts.map((alert) =>
      normalizeAlert('grafana', alert, {
        // Grafana's generatorURL opens the rule in its UI; it carries no query to read.
        expression: expressionFromAnnotations(alert.annotations),
        values: alert.values,
      }),
    ),
  };
}
