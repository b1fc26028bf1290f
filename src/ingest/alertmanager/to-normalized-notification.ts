import type { NormalizedNotification } from '../../domain/alert.js';
import { expressionFromAnnotations, expressionFromPrometheusURL } from './alert-expression.js';
import type { AlertmanagerWebhook } from './alertmanager-webhook.schema.js';
import { normalizeAlert } from './normalize-alert.js';

export function alertmanagerToNotification(payload: AlertmanagerWebhook): NormalizedNotification {
  return {
    source: 'alertmanager',
    receiver: payload.receiver,
    groupKey: payload.groupKey,
    truncatedAlerts: payload.truncatedAlerts,
    alerts: payload.alerts.map((alert) =>
      normalizeAlert('alertmanager', alert, {
        expression: expressionFromAnnotations(alert.annotations) ?? expressionFromPrometheusURL(alert.generatorURL),
        values: null,
      }),
    ),
  };
}
