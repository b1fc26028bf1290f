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
  inputs: JsonObject;
}

export interface RunOutcome {
  state: RunState;
  failure?: RunFailure | null;
  exitCode: number | null;
  output: string;
  outputs?: JsonObject;
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
          `INSERT INTO remediation_runs (id, incident_id, kind, action_id, target, inputs, state) VALUES ($1,$2,$3,$4,$5,$6,'claimed') ON CONFLICT (id) DO NOTHING`,
          [run.id, run.incidentId, run.kind, run.actionId, run.target, toJsonb(run.inputs)],
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
        await client.query('UPDATE remediation_runs SET state = $2, exit_code = $3, output = $4, failure = $5, outputs = $6, finished_at = now() WHERE id = $1', [
          runId,
          outcome.state,
          outcome.exitCode,
          output,
          failure,
          outcome.outputs ? toJsonb(outcome.outputs) : null,
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
