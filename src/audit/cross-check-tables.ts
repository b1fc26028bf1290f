import { createHash } from 'node:crypto';
import type { Pool, Queryable } from '../database/database.js';
import { canonicalJson } from './canonical-json.js';

/** A row of a table the chain mirrors that the chain does not back up, or an event whose row is gone. */
export interface TableMismatch {
  table: 'approvals' | 'approval_requests' | 'remediation_runs' | 'incidents';
  problem: string;
}

/**
 * The tables the workflow acts on (approvals, approval requests, runs) are written in the same transaction
 * as the events that describe them, so every row must have its event with the same content. A row someone
 * added, or changed, in the table alone is reported here; the chain check tells whether the events are genuine.
 * Events not yet sealed count too: the sealer seals whatever is in the table, so waiting would change nothing.
 * All checks read one snapshot, so a change committed meanwhile by a running service cannot look like a mismatch.
 */
export async function crossCheckTables(pool: Pool): Promise<TableMismatch[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const mismatches = await crossCheckSnapshot(client);
    await client.query('COMMIT');
    return mismatches;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function crossCheckSnapshot(db: Queryable): Promise<TableMismatch[]> {
  const mismatches: TableMismatch[] = [];

  const approvals = await db.query<{ id: number; incident_id: string; request_id: string | null; approver: string; approved: boolean }>(
    `SELECT a.id, a.incident_id, a.request_id, a.approver, a.approved FROM approvals a
     WHERE NOT EXISTS (
       SELECT 1 FROM audit_events e
       WHERE e.incident_id = a.incident_id
         AND e.kind = CASE WHEN a.approved THEN 'approval.granted' ELSE 'approval.rejected' END
         AND e.actor = a.approver
         AND e.data->>'reason' = a.reason
         AND (a.request_id IS NULL OR e.data->>'requestId' = a.request_id::text)
         AND (NOT e.data ? 'channel' OR e.data->>'channel' = a.channel))
     ORDER BY a.id`,
  );
  for (const row of approvals.rows) {
    mismatches.push({
      table: 'approvals',
      problem: `approvals row ${row.id} (${row.approver} ${row.approved ? 'approved' : 'rejected'}${row.request_id ? ` request ${row.request_id}` : ''} of incident ${row.incident_id}) has no ${row.approved ? 'approval.granted' : 'approval.rejected'} event with the same approver, reason and channel: it was added or changed outside Responder`,
    });
  }

  const withdrawn = await db.query<{ id: number; incident_id: string; request_id: string | null; approver: string }>(
    `SELECT a.id, a.incident_id, a.request_id, a.approver FROM approvals a
     WHERE a.withdrawn_at IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM audit_events e
       WHERE e.incident_id = a.incident_id AND e.kind = 'approval.withdrawn' AND e.actor = a.approver AND e.data->>'requestId' = a.request_id::text)
     ORDER BY a.id`,
  );
  for (const row of withdrawn.rows) {
    mismatches.push({
      table: 'approvals',
      problem: `approvals row ${row.id} (${row.approver}, request ${row.request_id} of incident ${row.incident_id}) is marked withdrawn, but no approval.withdrawn event says so: it was changed outside Responder`,
    });
  }

  const orphanDecisions = await db.query<{ seq: number | null; id: number; kind: string; actor: string; incident_id: string }>(
    `SELECT e.seq, e.id, e.kind, e.actor, e.incident_id FROM audit_events e
     WHERE e.kind IN ('approval.granted', 'approval.rejected')
       AND NOT EXISTS (
         SELECT 1 FROM approvals a
         WHERE a.incident_id = e.incident_id AND a.approver = e.actor AND a.approved = (e.kind = 'approval.granted')
           AND a.reason = e.data->>'reason' AND (NOT e.data ? 'requestId' OR a.request_id::text = e.data->>'requestId'))
     ORDER BY e.id`,
  );
  for (const row of orphanDecisions.rows) {
    mismatches.push({
      table: 'approvals',
      problem: `event ${row.seq ?? `(unsealed, id ${row.id})`} (${row.kind} by ${row.actor}, incident ${row.incident_id}) has no matching approvals row: the row was deleted or changed`,
    });
  }

  const requests = await db.query<{ id: string; incident_id: string; round: number; state: string; opened: boolean }>(
    `SELECT r.id, r.incident_id, r.round, r.state,
            EXISTS (SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'approval.requested'
                      AND e.data->>'requestId' = r.id::text AND e.data->'inputs' = r.inputs
                      AND e.data->>'proposalHash' = r.proposal_hash AND e.data->>'action' = r.action_id) AS opened
     FROM approval_requests r
     WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'approval.requested'
                         AND e.data->>'requestId' = r.id::text AND e.data->'inputs' = r.inputs
                         AND e.data->>'proposalHash' = r.proposal_hash AND e.data->>'action' = r.action_id)
        OR (r.state <> 'open' AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id
                         AND e.kind = 'approval.request.' || r.state AND e.data->>'requestId' = r.id::text))
     ORDER BY r.created_at`,
  );
  for (const row of requests.rows) {
    mismatches.push({
      table: 'approval_requests',
      problem: row.opened
        ? `approval request ${row.id} (incident ${row.incident_id}, round ${row.round}) is ${row.state}, but no approval.request.${row.state} event says so: its state was changed outside Responder`
        : `approval request ${row.id} (incident ${row.incident_id}, round ${row.round}) has no approval.requested event with the same action, inputs and proposal hash: it was added or changed outside Responder`,
    });
  }

  const runs = await db.query<{ id: string; claimed: boolean }>(
    `SELECT r.id,
            EXISTS (SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'run.claimed' AND e.data->>'runId' = r.id
                      AND e.data->>'action' = r.action_id AND e.data->>'target' = r.target
                      AND (NOT e.data ? 'inputs' OR e.data->'inputs' = r.inputs)) AS claimed
     FROM remediation_runs r
     WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'run.claimed' AND e.data->>'runId' = r.id
                         AND e.data->>'action' = r.action_id AND e.data->>'target' = r.target
                         AND (NOT e.data ? 'inputs' OR e.data->'inputs' = r.inputs))
        OR (r.finished_at IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'run.finished' AND e.data->>'runId' = r.id
               AND e.data->>'state' = r.state
               AND e.data->'exitCode' IS NOT DISTINCT FROM coalesce(to_jsonb(r.exit_code), 'null'::jsonb)
               AND (NOT e.data ? 'outputSha256' OR e.data->>'outputSha256' = encode(sha256(convert_to(coalesce(r.output, ''), 'UTF8')), 'hex'))))
     ORDER BY r.started_at`,
  );
  for (const row of runs.rows) {
    mismatches.push({
      table: 'remediation_runs',
      problem: row.claimed
        ? `run ${row.id}: its state, exit code or output differs from its run.finished event: changed outside Responder`
        : `run ${row.id} has no run.claimed event with the same action, target and inputs: it was added or changed outside Responder`,
    });
  }
  // Acknowledging releases a target held by a run a crash left unknown: one set outside Responder would let
  // a remediation start there without anyone having looked.
  const acknowledged = await db.query<{ id: string }>(
    `SELECT r.id FROM remediation_runs r
     WHERE r.acknowledged_at IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM audit_events e WHERE e.incident_id = r.incident_id AND e.kind = 'run.acknowledged' AND e.data->>'runId' = r.id
         AND e.actor = r.acknowledged_by AND e.data->>'reason' = r.acknowledge_reason)
     ORDER BY r.started_at`,
  );
  for (const row of acknowledged.rows) {
    mismatches.push({ table: 'remediation_runs', problem: `run ${row.id} is marked acknowledged, but no run.acknowledged event by the same person says so: changed outside Responder` });
  }
  mismatches.push(...(await crossCheckIncidentColumns(db)));
  return mismatches;
}

const DIGESTED_COLUMNS = ['evidence', 'proposal', 'dry_run', 'decision', 'verification'] as const;

/**
 * Each stage's result on the incident row (evidence, proposal, dry-run, policy decision, verification) must
 * be what the newest event that wrote it recorded the digest of. Incidents patched before events carried
 * digests have none to compare with and are skipped.
 */
async function crossCheckIncidentColumns(db: Queryable): Promise<TableMismatch[]> {
  const digests = await db.query<{ incident_id: string; column_name: string; digest: string; seq: number | null }>(
    `SELECT DISTINCT ON (e.incident_id, d.key) e.incident_id, d.key AS column_name, d.value #>> '{}' AS digest, e.seq
     FROM audit_events e CROSS JOIN LATERAL jsonb_each(e.data->'contentSha256') AS d
     WHERE e.incident_id IS NOT NULL AND jsonb_typeof(e.data->'contentSha256') = 'object'
     ORDER BY e.incident_id, d.key, e.id DESC`,
  );
  const expected = new Map<string, Map<string, { digest: string; seq: number | null }>>();
  for (const row of digests.rows) {
    if (!(DIGESTED_COLUMNS as readonly string[]).includes(row.column_name)) continue;
    const columns = expected.get(row.incident_id) ?? new Map();
    columns.set(row.column_name, { digest: row.digest, seq: row.seq });
    expected.set(row.incident_id, columns);
  }
  const mismatches: TableMismatch[] = [];
  const ids = [...expected.keys()];
  for (let start = 0; start < ids.length; start += 500) {
    const page = await db.query<Record<(typeof DIGESTED_COLUMNS)[number], unknown> & { id: string }>(
      `SELECT id, ${DIGESTED_COLUMNS.join(', ')} FROM incidents WHERE id = ANY($1::uuid[])`,
      [ids.slice(start, start + 500)],
    );
    const found = new Set(page.rows.map((row) => row.id));
    for (const id of ids.slice(start, start + 500)) {
      if (!found.has(id)) mismatches.push({ table: 'incidents', problem: `incident ${id} has events on the chain but no row: it was deleted` });
    }
    for (const row of page.rows) {
      for (const [column, { digest, seq }] of expected.get(row.id)!) {
        const value = row[column as (typeof DIGESTED_COLUMNS)[number]];
        const actual = value === null ? null : createHash('sha256').update(canonicalJson(value)).digest('hex');
        if (actual !== digest) {
          mismatches.push({ table: 'incidents', problem: `incident ${row.id}: its ${column} is not what event ${seq ?? '(unsealed)'} recorded: changed outside Responder` });
        }
      }
    }
  }
  return mismatches;
}
