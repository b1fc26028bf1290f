import type { Pool } from '../database/database.js';
import { listAuditEvents } from '../audit/audit-store.js';
import { AlertNotificationSchema, IncidentRecordSchema, type AlertNotification, type IncidentRecord } from '../domain/incident-record.js';
import { listApprovalRequests, listApprovals } from './approvals.js';
import type { IncidentStore } from './incidents.js';
import { findInvestigation } from './investigations.js';
import { listRuns } from './runs.js';

interface NotificationRow {
  status: string;
  received_at: string;
  last_received_at: string;
  deliveries: number;
  receiver: string;
  alert: unknown;
}

async function listAlertNotifications(pool: Pool, incidentId: string): Promise<AlertNotification[]> {
  const result = await pool.query<NotificationRow>('SELECT * FROM alert_notifications WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return result.rows.map((r) =>
    AlertNotificationSchema.parse({ status: r.status, receivedAt: r.received_at, lastReceivedAt: r.last_received_at, deliveries: r.deliveries, receiver: r.receiver, alert: r.alert }),
  );
}

/** The whole record of one incident, gathered from every aggregate that holds part of it. */
export function createIncidentRecordReader(pool: Pool, incidents: IncidentStore) {
  return {
    async get(id: string): Promise<IncidentRecord | null> {
      const incident = await incidents.get(id);
      if (!incident) return null;
      const approvals = await listApprovals(pool, id);
      const [alerts, approvalRequests, runs, investigation, audit] = await Promise.all([
        listAlertNotifications(pool, id),
        listApprovalRequests(pool, id, approvals),
        listRuns(pool, id),
        findInvestigation(pool, id),
        listAuditEvents(pool, id),
      ]);
      return IncidentRecordSchema.parse({ ...incident, alerts, approvalRequests, approvals, runs, investigation, audit });
    },
  };
}

export type IncidentRecordReader = ReturnType<typeof createIncidentRecordReader>;
