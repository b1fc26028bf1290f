import type { z } from 'zod';
import type { Route } from '../config/config.schema.js';
import type { NormalizedNotification } from '../domain/alert.js';
import type { IntakeResult, RoutedNotification } from '../domain/incident.js';
import type { NotificationStore } from '../store/notifications.js';
import { AlertmanagerWebhookSchema } from './alertmanager/alertmanager-webhook.schema.js';
import { alertmanagerToNotification } from './alertmanager/to-normalized-notification.js';
import { GrafanaWebhookSchema } from './grafana/grafana-webhook.schema.js';
import { grafanaToNotification } from './grafana/to-normalized-notification.js';
import { routeAlert } from './route-alert.js';
import { wellFormedJson } from '../domain/well-formed-text.js';

export const SOURCES = ['grafana', 'alertmanager'] as const;
export type Source = (typeof SOURCES)[number];

export type ParseResult = { ok: true; notification: NormalizedNotification } | { ok: false; errors: { path: string; message: string }[] };

function describe(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
}

/**
 * Parse at the edge: a webhook body becomes a NormalizedNotification or a list of what is wrong with it.
 * U+0000 and lone surrogates, anywhere in the body (keys included), become U+FFFD first: PostgreSQL
 * would refuse them on every retry of the sender.
 */
export function parseWebhook(source: Source, raw: unknown): ParseResult {
  const body = wellFormedJson(raw);
  if (source === 'alertmanager') {
    const parsed = AlertmanagerWebhookSchema.safeParse(body);
    return parsed.success ? { ok: true, notification: alertmanagerToNotification(parsed.data) } : { ok: false, errors: describe(parsed.error) };
  }
  const parsed = GrafanaWebhookSchema.safeParse(body);
  return parsed.success ? { ok: true, notification: grafanaToNotification(parsed.data) } : { ok: false, errors: describe(parsed.error) };
}

export interface IntakeDeps {
  notifications: NotificationStore;
  routes: readonly Route[];
  startWorkflow(incidentId: string): Promise<void>;
  notifyClosed(incidentId: string): Promise<void>;
  onWorkflowStartError(incidentId: string, error: unknown): void;
}

/**
 * Routes each alert, commits the notification, then starts workflows for incidents it opened. A start that fails
 * is not lost: the incident stays `received` and the periodic sweep starts it.
 */
export async function acceptNotification(deps: IntakeDeps, notification: NormalizedNotification): Promise<IntakeResult[]> {
  const routed: RoutedNotification = { ...notification, alerts: notification.alerts.map((alert) => ({ ...alert, route: routeAlert(deps.routes, alert) })) };
  const results = await deps.notifications.record(routed);
  for (const result of results) {
    try {
      if (result.startWorkflow) await deps.startWorkflow(result.id);
      else if (result.state === 'resolved') await deps.notifyClosed(result.id);
    } catch (error) {
      deps.onWorkflowStartError(result.id, error);
    }
  }
  return results;
}
