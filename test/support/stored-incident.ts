import { randomUUID } from 'node:crypto';
import type { Pool } from '../../src/database/database.js';
import { createNotificationStore } from '../../src/store/notifications.js';

/**
 * An unrouted incident stored the way intake stores one (a firing Alertmanager alert on web1), for tests
 * that act on incidents without going through HTTP. Answers its id.
 */
export async function storeFiringIncident(
  pool: Pool,
  alert: { name?: string; severity?: string; labels?: Record<string, string>; annotations?: Record<string, string>; receiver?: string } = {},
): Promise<string> {
  const fingerprint = randomUUID();
  const name = alert.name ?? 'NginxDown';
  const [opened] = await createNotificationStore(pool).record({
    source: 'alertmanager',
    receiver: alert.receiver ?? 'responder',
    groupKey: fingerprint,
    truncatedAlerts: 0,
    alerts: [
      {
        source: 'alertmanager',
        fingerprint,
        status: 'firing',
        name,
        severity: alert.severity ?? 'warning',
        instance: 'web1',
        labels: { alertname: name, ...alert.labels },
        annotations: alert.annotations ?? {},
        startsAt: new Date().toISOString(),
        endsAt: null,
        generatorURL: null,
        expression: null,
        values: null,
        route: null,
      },
    ],
  });
  return opened!.id;
}
