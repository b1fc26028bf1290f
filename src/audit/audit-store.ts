import type { Queryable } from '../database/database.js';
import { AuditEventSchema, type AuditEvent } from '../domain/audit-event.js';

export interface AuditEventDraft {
  incidentId: string | null;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
}

/** Appends inside the caller's transaction, so the event commits with the change it records. */
export async function appendAuditEvent(client: Queryable, input: AuditEventDraft): Promise<void> {
  await client.query('INSERT INTO audit_events (incident_id, at, actor, kind, data) VALUES ($1, $2, $3, $4, $5)', [
    input.incidentId,
    new Date().toISOString(),
    input.actor,
    input.kind,
    // jsonb normalises; the sealer hashes what the database hands back, and so does verify.
    JSON.stringify(input.data),
  ]);
}

export interface AuditRow {
  id: number;
  seq: number | null;
  incident_id: string | null;
  at: string;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
  prev_hash: string | null;
  hash: string | null;
}

export function auditEventFromRow(row: AuditRow): AuditEvent {
  return AuditEventSchema.parse({
    id: row.id,
    seq: row.seq,
    incidentId: row.incident_id,
    at: row.at,
    actor: row.actor,
    kind: row.kind,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  });
}

export async function listAuditEvents(db: Queryable, incidentId: string): Promise<AuditEvent[]> {
  const result = await db.query<AuditRow>('SELECT * FROM audit_events WHERE incident_id = $1 ORDER BY id', [incidentId]);
  return result.rows.map(auditEventFromRow);
}
