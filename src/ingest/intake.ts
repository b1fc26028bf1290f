import type { z } from 'zod';
import type { Route } from '../config/config.schema.js';
import type { NormalizedNotification } from '../domain/alert.js';
import type { IntakeResult, RouteChoice, RoutedNotification } from '../domain/incident.js';
import type { NotificationStore } from '../store/notifications.js';
import { parseAlertmanagerWebhook } from './alertmanager/parse-alertmanager-webhook.js';
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

// What in JSON text can make JSON.parse return a U+0000 or a lone surrogate: a literal NUL (not valid JSON
// anyway), a \u0000 escape, or a \uD800–\uDFFF escape (any case; a proper pair matches too, which only
// costs the walk). An escaped backslash followed by "u0000" matches as well: a false alarm, never a miss.
const ESCAPED_NUL_OR_SURROGATE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Whether JSON.parse(text) may hold text PostgreSQL refuses (U+0000, a lone surrogate). False means it
 * certainly does not. Raw UTF-8 decoded by Buffer#toString never yields a lone surrogate (bad bytes become
 * U+FFFD), but a string that came from elsewhere might, so the text itself is checked too.
 */
export function mayParseToIllFormedText(text: string): boolean {
  return text.includes('\u0000') || !(text as string & { isWellFormed(): boolean }).isWellFormed() || ESCAPED_NUL_OR_SURROGATE.test(text);
}

/**
 * Parse at the edge: a webhook body becomes a NormalizedNotification or a list of what is wrong with it.
 * U+0000 and lone surrogates, anywhere in the body (keys included), become U+FFFD first: PostgreSQL
 * would refuse them on every retry of the sender. `text`, the JSON text `raw` was parsed from, lets that
 * walk over the whole body be skipped when the text cannot hold either.
 */
export function parseWebhook(source: Source, raw: unknown, text?: string): ParseResult {
  const body = text !== undefined && !mayParseToIllFormedText(text) ? raw : wellFormedJson(raw);
  if (source === 'alertmanager') {
    const parsed = parseAlertmanagerWebhook(body);
    return parsed.success ? { ok: true, notification: alertmanagerToNotification(parsed.data) } : { ok: false, errors: describe(parsed.error) };
  }
  const parsed = GrafanaWebhookSchema.safeParse(body);
  return parsed.success ? { ok: true, notification: grafanaToNotification(parsed.data) } : { ok: false, errors: describe(parsed.error) };
}

export interface IntakeDeps {
  notifications: NotificationStore;
  routes: readonly Route[];
  /** Routes an open, still unrouted incident (see IncidentStore.adoptRoute); true when it did. */
  adoptRoute(incidentId: string, choice: RouteChoice): Promise<boolean>;
  startWorkflow(incidentId: string): Promise<void>;
  notifyClosed(incidentId: string): Promise<void>;
  onWorkflowStartError(incidentId: string, error: unknown): void;
}

/**
 * Routes each alert, commits the notification, then starts workflows for incidents it opened. A start that fails
 * is not lost: the incident stays `received` and the periodic sweep starts it.
 *
 * A firing alert that matches a route now but landed on an incident stored unrouted (the routes changed
 * since) routes that incident and starts it; otherwise it would wait as `received` for as long as the alert
 * fires. That costs a second statement only for a routed alert whose incident is still `received`.
 */
export async function acceptNotification(deps: IntakeDeps, notification: NormalizedNotification): Promise<IntakeResult[]> {
  const routed: RoutedNotification = { ...notification, alerts: notification.alerts.map((alert) => ({ ...alert, route: routeAlert(deps.routes, alert) })) };
  const results = await deps.notifications.record(routed);
  const firingRoutes = new Map(routed.alerts.filter((alert) => alert.status === 'firing' && alert.route).map((alert) => [alert.fingerprint, alert.route!]));
  // Not caught: the delivery is stored, so the sender's retry (a 500 says retrying is safe) is a duplicate
  // that changes nothing but routes the incident this time.
  const adopted = new Set<string>();
  for (const result of results) {
    const choice = firingRoutes.get(result.fingerprint);
    if (!result.startWorkflow && result.state === 'received' && choice && (await deps.adoptRoute(result.id, choice))) adopted.add(result.id);
  }
  for (const result of results) {
    try {
      if (result.startWorkflow || adopted.has(result.id)) await deps.startWorkflow(result.id);
      else if (result.state === 'resolved') await deps.notifyClosed(result.id);
    } catch (error) {
      deps.onWorkflowStartError(result.id, error);
    }
  }
  return results;
}
