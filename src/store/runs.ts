import { createHash } from 'node:crypto';
import type { Pool, Queryable } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { appendAuditEvent } from '../audit/audit-store.js';
import type { RunFailure, RunState } from '../domain/incident.js';
import { RemediationRunSchema, type RemediationRun, type RunKind } from '../domain/incident-record.js';
import type { JsonObject } from '../domain/json-value.js';
import { wellFormedText } from '../domain/well-formed-text.js';
import { toJsonb } from './json-column.js';

interface RunRow {
  id: string;
  kind: string;
  action_id: string;
  target: string;
  inputs: unknown;
  state: string;
  failure: string | null;
  exit_code: number | null;
  output: string | null;
  outputs: unknown;
  cancelled_by: string | null;
  started_at: string;
  finished_at: string | null;
}

function toRun(row: RunRow): RemediationRun {
  return RemediationRunSchema.parse({
    id: row.id,
    kind: row.kind,
    actionId: row.action_id,
    target: row.target,
    inputs: row.inputs,
    state: row.state,
    failure: row.failure,
    exitCode: row.exit_code,
    output: row.output,
    outputs: row.outputs,
    cancelledBy: row.cancelled_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  });
}

export interface RunClaim {
  id: string;
  incidentId: string;
  kind: RunKind;
  actionId: string;
  target: string;
  /** The entry's target inputs as one key (host=web1,service=nginx): two runs with the same key never overlap. */
  targetKey?: string;
  inputs: JsonObject;
}

/** Whether a claimed run may start now. */
export type SlotOutcome =
  | { kind: 'acquired' }
  | { kind: 'wait'; reason: string }
  | { kind: 'cancelled'; by: string; reason: string }
  /** The run is not claimed any more: it started before (a crash mid-run) or it ended. */
  | { kind: 'gone' };

/** Serialises slot decisions across replicas: one transaction at a time decides who may start. */
const SLOT_LOCK = 7_261_041;

export interface RunOutcome {
  state: RunState;
  failure?: RunFailure | null;
  exitCode: number | null;
  output: string;
  outputs?: JsonObject;
  /** Who cancelled it, when the state is cancelled. */
  cancelledBy?: string | null;
}

export async function listRuns(db: Queryable, incidentId: string): Promise<RemediationRun[]> {
  const result = await db.query<RunRow>('SELECT * FROM remediation_runs WHERE incident_id = $1 ORDER BY started_at', [incidentId]);
  return result.rows.map(toRun);
}

/** Remediation runs: claimed before they start, so a crash mid-run is never silently re-run. */
export function createRunStore(pool: Pool) {
  return {
    async claim(run: RunClaim): Promise<void> {
      await withTransaction(pool, async (client) => {
        const inserted = await client.query(
          `INSERT INTO remediation_runs (id, incident_id, kind, action_id, target, inputs, state, target_key) VALUES ($1,$2,$3,$4,$5,$6,'claimed',$7) ON CONFLICT (id) DO NOTHING`,
          [run.id, run.incidentId, run.kind, run.actionId, run.target, toJsonb(run.inputs), run.targetKey ?? null],
        );
        if (inserted.rowCount === 1) {
          await appendAuditEvent(client, {
            incidentId: run.incidentId,
            actor: 'responder',
            kind: 'run.claimed',
            data: { runId: run.id, kind: run.kind, action: run.actionId, target: run.target, inputs: run.inputs },
          });
        }
      });
    },

    /**
     * Moves a claimed run to running. Returns false when the run had already started once:
     * a crash happened mid-run and nobody knows what the remediation did.
     */
    async start(runId: string): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const started = await client.query<{ incident_id: string }>(
          `UPDATE remediation_runs SET state = 'running', started_at = now() WHERE id = $1 AND state = 'claimed' RETURNING incident_id`,
          [runId],
        );
        const row = started.rows[0];
        if (!row) return false;
        await appendAuditEvent(client, { incidentId: row.incident_id, actor: 'responder', kind: 'run.started', data: { runId } });
        return true;
      });
    },

    async finish(runId: string, incidentId: string, outcome: RunOutcome): Promise<void> {
      const output = wellFormedText(outcome.output);
      const failure = outcome.failure ?? null;
      await withTransaction(pool, async (client) => {
        await client.query('UPDATE remediation_runs SET state = $2, exit_code = $3, output = $4, failure = $5, outputs = $6, cancelled_by = $7, finished_at = now() WHERE id = $1', [
          runId,
          outcome.state,
          outcome.exitCode,
          output,
          failure,
          outcome.outputs ? toJsonb(outcome.outputs) : null,
          outcome.cancelledBy ?? null,
        ]);
        // The output (a playbook's diff, say) can be long: the chain carries its digest, which verify checks against the row.
        const outputSha256 = createHash('sha256').update(output, 'utf8').digest('hex');
        await appendAuditEvent(client, {
          incidentId,
          actor: 'responder',
          kind: 'run.finished',
          data: { runId, state: outcome.state, failure, exitCode: outcome.exitCode, outputSha256, outputBytes: Buffer.byteLength(output, 'utf8'), ...(outcome.outputs ? { outputs: outcome.outputs } : {}) },
        });
      });
    },

    /**
     * Lets a claimed run start when no other run holds its target and fewer than `maxConcurrent` runs hold a
     * slot. A slot is held by a run that acquired one and has not ended while its incident is still
     * approved or executing, so a workflow that died between acquiring and running frees it with its incident.
     */
    async acquireSlot(runId: string, maxConcurrent: number): Promise<SlotOutcome> {
      return withTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SLOT_LOCK]);
        const result = await client.query<{ state: string; target_key: string | null; slot_acquired_at: string | null; cancel_requested_by: string | null; cancel_reason: string | null; incident_id: string }>(
          'SELECT state, target_key, slot_acquired_at, cancel_requested_by, cancel_reason, incident_id FROM remediation_runs WHERE id = $1',
          [runId],
        );
        const run = result.rows[0];
        if (!run || run.state !== 'claimed') return { kind: 'gone' };
        if (run.cancel_requested_by) return { kind: 'cancelled', by: run.cancel_requested_by, reason: run.cancel_reason ?? '' };
        if (run.slot_acquired_at) return { kind: 'acquired' };
        const holders = await client.query<{ id: string; target_key: string | null; incident_id: string }>(
          `SELECT r.id, r.target_key, r.incident_id FROM remediation_runs r JOIN incidents i ON i.id = r.incident_id
           WHERE r.slot_acquired_at IS NOT NULL AND r.state IN ('claimed', 'running') AND i.state IN ('approved', 'executing') AND r.id <> $1
           ORDER BY r.slot_acquired_at`,
          [runId],
        );
        if (run.target_key !== null) {
          const unknown = await client.query<{ id: string; incident_id: string }>(
            `SELECT id, incident_id FROM remediation_runs WHERE target_key = $1 AND state = 'unknown' AND acknowledged_at IS NULL AND id <> $2 ORDER BY started_at LIMIT 1`,
            [run.target_key, runId],
          );
          const blocker = unknown.rows[0];
          if (blocker) {
            return {
              kind: 'wait',
              reason: `run ${blocker.id} (incident ${blocker.incident_id}) on the same target, ${run.target_key}, ended unknown: it may still be running or have left the target half-changed; an admin checks the target, then acknowledges it (POST /api/v1/incidents/${blocker.incident_id}/acknowledge-run) before anything else runs there`,
            };
          }
        }
        const sameTarget = run.target_key === null ? undefined : holders.rows.find((h) => h.target_key === run.target_key);
        if (sameTarget) return { kind: 'wait', reason: `waiting for run ${sameTarget.id} (incident ${sameTarget.incident_id}) on the same target, ${run.target_key}, to finish: one run at a time per target` };
        if (holders.rows.length >= maxConcurrent) {
          return { kind: 'wait', reason: `waiting for a free slot: ${holders.rows.length} remediations are running (execution.maxConcurrentRuns: ${maxConcurrent})` };
        }
        await client.query('UPDATE remediation_runs SET slot_acquired_at = now() WHERE id = $1', [runId]);
        await appendAuditEvent(client, { incidentId: run.incident_id, actor: 'responder', kind: 'run.slot-acquired', data: { runId, targetKey: run.target_key } });
        return { kind: 'acquired' };
      });
    },

    /**
     * An admin's request to stop the incident's run (waiting or running). The process running it watches for
     * this and stops the engine; null when the incident has no run that could be stopped.
     */
    async requestCancel(incidentId: string, actor: string, reason: string): Promise<{ runId: string; state: RunState } | null> {
      return withTransaction(pool, async (client) => {
        const result = await client.query<{ id: string; state: RunState }>(
          `UPDATE remediation_runs SET cancel_requested_by = $2, cancel_requested_at = now(), cancel_reason = $3
           WHERE incident_id = $1 AND kind IN ('execute', 'rollback') AND state IN ('claimed', 'running') AND cancel_requested_by IS NULL
           RETURNING id, state`,
          [incidentId, actor, reason],
        );
        const row = result.rows[0];
        if (!row) return null;
        await appendAuditEvent(client, { incidentId, actor, kind: 'run.cancel-requested', data: { runId: row.id, reason } });
        return { runId: row.id, state: row.state };
      });
    },

    /**
     * An admin says they checked the target of the incident's run that ended unknown: it no longer holds
     * that target. Null when the incident has no such run still unacknowledged.
     */
    async acknowledgeUnknownRun(incidentId: string, actor: string, reason: string): Promise<{ runId: string } | null> {
      return withTransaction(pool, async (client) => {
        const result = await client.query<{ id: string; target_key: string | null }>(
          `UPDATE remediation_runs SET acknowledged_by = $2, acknowledged_at = now(), acknowledge_reason = $3
           WHERE incident_id = $1 AND state = 'unknown' AND acknowledged_at IS NULL
           RETURNING id, target_key`,
          [incidentId, actor, reason],
        );
        if (result.rows.length === 0) return null;
        for (const row of result.rows) {
          await appendAuditEvent(client, { incidentId, actor, kind: 'run.acknowledged', data: { runId: row.id, targetKey: row.target_key, reason } });
        }
        return { runId: result.rows[0]!.id };
      });
    },

    /** Who asked to cancel this run, if anyone did. */
    async cancelRequest(runId: string): Promise<{ by: string; reason: string } | null> {
      const result = await pool.query<{ cancel_requested_by: string | null; cancel_reason: string | null }>('SELECT cancel_requested_by, cancel_reason FROM remediation_runs WHERE id = $1', [runId]);
      const row = result.rows[0];
      return row?.cancel_requested_by ? { by: row.cancel_requested_by, reason: row.cancel_reason ?? '' } : null;
    },

    async get(runId: string): Promise<RemediationRun | null> {
      const result = await pool.query<RunRow>('SELECT * FROM remediation_runs WHERE id = $1', [runId]);
      return result.rows[0] ? toRun(result.rows[0]) : null;
    },

    /** How often this target was remediated recently: policy's rate limit. */
    async countRecentExecutions(target: string, withinSeconds = 3600): Promise<number> {
      const result = await pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM remediation_runs WHERE kind = 'execute' AND target = $1 AND started_at > now() - make_interval(secs => $2)`,
        [target, withinSeconds],
      );
      return result.rows[0]?.count ?? 0;
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;
