import type { Pool, Queryable } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { appendAuditEvent } from '../audit/audit-store.js';
import { ApprovalDecisionSchema, type ApprovalDecision } from '../domain/incident-record.js';
import type { JsonObject } from '../domain/json-value.js';
import { toJsonb } from './json-column.js';

interface ApprovalRow {
  approver: string;
  approved: boolean;
  reason: string;
  modifications: unknown;
  channel: string;
  created_at: string;
}

export async function listApprovals(db: Queryable, incidentId: string): Promise<ApprovalDecision[]> {
  const result = await db.query<ApprovalRow>('SELECT * FROM approvals WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return result.rows.map((r) =>
    ApprovalDecisionSchema.parse({ approver: r.approver, approved: r.approved, reason: r.reason, modifications: r.modifications, channel: r.channel, createdAt: r.created_at }),
  );
}

export interface NewApproval {
  approver: string;
  approved: boolean;
  reason: string;
  modifications?: JsonObject;
  channel: ApprovalDecision['channel'];
}

export function createApprovalStore(pool: Pool) {
  return {
    async record(incidentId: string, approval: NewApproval): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query('INSERT INTO approvals (incident_id, approver, approved, reason, modifications, channel) VALUES ($1,$2,$3,$4,$5,$6)', [
          incidentId,
          approval.approver,
          approval.approved,
          approval.reason,
          approval.modifications ? toJsonb(approval.modifications) : null,
          approval.channel,
        ]);
        await appendAuditEvent(client, {
          incidentId,
          actor: approval.approver,
          kind: approval.approved ? 'approval.granted' : 'approval.rejected',
          data: { reason: approval.reason, modifications: approval.modifications ?? null, channel: approval.channel },
        });
      });
    },

    /** Whether this approver already approved since the incident last changed state (the current request). */
    async hasApprovedSince(incidentId: string, approver: string, since: string): Promise<boolean> {
      const result = await pool.query('SELECT 1 FROM approvals WHERE incident_id = $1 AND approver = $2 AND approved AND created_at >= $3 LIMIT 1', [incidentId, approver, since]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type ApprovalStore = ReturnType<typeof createApprovalStore>;
