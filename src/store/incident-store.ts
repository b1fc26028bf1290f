import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { appendAuditEvent, listAuditEvents, type AuditEvent } from '../audit/audit-log.js';
import type { NormalizedAlert, NormalizedNotification } from '../domain/alert.js';
import { CLOSABLE_ON_RESOLVE, isTerminal, type IncidentState, type Mode, type RunState } from '../domain/incident.js';
import type { Investigation } from '../agent/investigation-record.js';
import { withTransaction, type Pool, type Queryable } from './database.js';

export interface RouteChoice {
  route: string;
  mode: Mode;
}

export interface IncidentSummary {
  id: string;
  fingerprint: string;
  state: IncidentState;
  stateReason: string | null;
  route: string | null;
  mode: Mode | null;
  alertName: string;
  severity: string;
  instance: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Incident extends IncidentSummary {
  source: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  expression: string | null;
  evidence: unknown;
  proposal: unknown;
  dryRun: unknown;
  decision: unknown;
  verification: unknown;
}

export interface IncidentRecord extends Incident {
  alerts: { status: string; receivedAt: string; lastReceivedAt: string; deliveries: number; receiver: string; alert: NormalizedAlert }[];
  approvals: { approver: string; approved: boolean; reason: string; modifications: unknown; channel: string; createdAt: string }[];
  runs: RemediationRun[];
  /** The agent's investigation, when a model was configured. */
  investigation: Investigation | null;
  audit: AuditEvent[];
}

export interface RemediationRun {
  id: string;
  kind: 'dry-run' | 'execute';
  actionId: string;
  target: string;
  inputs: Record<string, unknown>;
  state: RunState;
  exitCode: number | null;
  output: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface IntakeResult {
  id: string;
  fingerprint: string;
  state: IncidentState;
  /** True when this delivery opened the incident and a route wants it acted on. */
  startWorkflow: boolean;
}

/** jsonb cannot hold U+0000, and a log line or model answer may carry one; it is stored as U+FFFD. */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value;
}

interface IncidentRow {
  id: string;
  fingerprint: string;
  source: string;
  state: IncidentState;
  state_reason: string | null;
  route: string | null;
  mode: Mode | null;
  alert_name: string;
  severity: string;
  instance: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  expression: string | null;
  evidence: unknown;
  proposal: unknown;
  dry_run: unknown;
  decision: unknown;
  verification: unknown;
  created_at: string;
  updated_at: string;
}

function toSummary(row: IncidentRow): IncidentSummary {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    state: row.state,
    stateReason: row.state_reason,
    route: row.route,
    mode: row.mode,
    alertName: row.alert_name,
    severity: row.severity,
    instance: row.instance,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toIncident(row: IncidentRow): Incident {
  return {
    ...toSummary(row),
    source: row.source,
    labels: row.labels,
    annotations: row.annotations,
    expression: row.expression,
    evidence: row.evidence,
    proposal: row.proposal,
    dryRun: row.dry_run,
    decision: row.decision,
    verification: row.verification,
  };
}

/** The same alert in the same state sent twice (retries, HA Alertmanager pairs) is one notification. */
function dedupKey(source: string, alert: NormalizedAlert): string {
  return createHash('sha256')
    .update([source, alert.fingerprint, alert.status, alert.startsAt, alert.endsAt ?? ''].join('\u0000'))
    .digest('hex');
}

const PATCHABLE = {
  evidence: 'evidence',
  proposal: 'proposal',
  dryRun: 'dry_run',
  decision: 'decision',
  verification: 'verification',
} as const;
export type IncidentPatch = Partial<Record<keyof typeof PATCHABLE, unknown>>;

export interface TransitionRequest {
  from: readonly IncidentState[];
  to: IncidentState;
  actor: string;
  reason?: string;
  patch?: IncidentPatch;
  audit?: Record<string, unknown>;
}

export function createIncidentStore(pool: Pool) {
  async function attachAlert(
    client: pg.PoolClient,
    notification: NormalizedNotification,
    alert: NormalizedAlert,
    routeFor: (alert: NormalizedAlert) => RouteChoice | null,
  ): Promise<IntakeResult> {
    const open = await client.query<IncidentRow>('SELECT * FROM incidents WHERE fingerprint = $1 AND open FOR UPDATE', [alert.fingerprint]);
    let incident = open.rows[0];
    let startWorkflow = false;
    // incident.opened already records the first notification of a new incident.
    let opened = false;

    if (!incident && alert.status === 'firing') {
      const choice = routeFor(alert);
      const inserted = await client.query<IncidentRow>(
        `INSERT INTO incidents (id, fingerprint, source, state, state_reason, route, mode, alert_name, severity, instance, labels, annotations, expression)
         VALUES ($1,$2,$3,'received',$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING *`,
        [
          randomUUID(),
          alert.fingerprint,
          notification.source,
          choice ? null : 'no route matched: stored and shown, not acted on',
          choice?.route ?? null,
          choice?.mode ?? null,
          alert.name,
          alert.severity,
          alert.instance,
          JSON.stringify(alert.labels),
          JSON.stringify(alert.annotations),
          alert.expression,
        ],
      );
      incident = inserted.rows[0]!;
      startWorkflow = choice !== null;
      opened = true;
      await appendAuditEvent(client, {
        incidentId: incident.id,
        actor: `webhook:${notification.source}`,
        kind: 'incident.opened',
        data: { fingerprint: alert.fingerprint, alert: alert.name, route: choice?.route ?? null, mode: choice?.mode ?? null },
      });
    }

    if (!incident) {
      // Resolved with nothing open: attach to the latest incident of this fingerprint, or keep a closed record.
      const latest = await client.query<IncidentRow>('SELECT * FROM incidents WHERE fingerprint = $1 ORDER BY created_at DESC LIMIT 1', [alert.fingerprint]);
      incident = latest.rows[0];
      if (!incident) {
        const inserted = await client.query<IncidentRow>(
          `INSERT INTO incidents (id, fingerprint, source, state, open, state_reason, alert_name, severity, instance, labels, annotations, expression)
           VALUES ($1,$2,$3,'resolved',false,'resolved notification for an alert never seen firing',$4,$5,$6,$7,$8,$9) RETURNING *`,
          [randomUUID(), alert.fingerprint, notification.source, alert.name, alert.severity, alert.instance, JSON.stringify(alert.labels), JSON.stringify(alert.annotations), alert.expression],
        );
        incident = inserted.rows[0]!;
        opened = true;
        await appendAuditEvent(client, { incidentId: incident.id, actor: `webhook:${notification.source}`, kind: 'incident.opened', data: { fingerprint: alert.fingerprint, alert: alert.name, status: 'resolved' } });
      }
    }

    const stored = await client.query<{ deliveries: number }>(
      `INSERT INTO alert_notifications (incident_id, source, receiver, fingerprint, status, dedup_key, alert)
       VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT (dedup_key) DO UPDATE SET deliveries = alert_notifications.deliveries + 1, last_received_at = now()
       RETURNING deliveries`,
      [incident.id, notification.source, notification.receiver, alert.fingerprint, alert.status, dedupKey(notification.source, alert), JSON.stringify(alert)],
    );
    const firstDelivery = stored.rows[0]?.deliveries === 1;

    if (alert.status === 'resolved' && firstDelivery && incident.state !== 'resolved' && CLOSABLE_ON_RESOLVE.includes(incident.state)) {
      const closed = await client.query<IncidentRow>(
        `UPDATE incidents SET state = 'resolved', open = false, state_reason = $2, updated_at = now() WHERE id = $1 RETURNING *`,
        [incident.id, 'alert resolved before any remediation ran'],
      );
      await appendAuditEvent(client, {
        incidentId: incident.id,
        actor: `webhook:${notification.source}`,
        kind: 'incident.state',
        data: { from: incident.state, to: 'resolved', reason: 'alert resolved before any remediation ran' },
      });
      incident = closed.rows[0]!;
    } else if (firstDelivery && !opened) {
      await appendAuditEvent(client, {
        incidentId: incident.id,
        actor: `webhook:${notification.source}`,
        kind: 'alert.notification',
        data: { status: alert.status, startsAt: alert.startsAt, endsAt: alert.endsAt },
      });
    }
    return { id: incident.id, fingerprint: incident.fingerprint, state: incident.state, startWorkflow };
  }

  return {
    /** Stores a whole delivery in one transaction: all of it commits, or none of it does. */
    async recordNotification(notification: NormalizedNotification, routeFor: (alert: NormalizedAlert) => RouteChoice | null): Promise<IntakeResult[]> {
      // A fixed order keeps two concurrent deliveries of overlapping groups from deadlocking.
      const alerts = [...notification.alerts].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await withTransaction(pool, async (client) => {
            const results: IntakeResult[] = [];
            for (const alert of alerts) results.push(await attachAlert(client, notification, alert, routeFor));
            return results;
          });
        } catch (error) {
          // Two deliveries racing to open the same fingerprint: the loser retries and attaches to the winner's incident.
          const code = (error as { code?: string }).code;
          if (attempt < 3 && (code === '23505' || code === '40P01')) continue;
          throw error;
        }
      }
    },

    /** Moves an incident only from an expected state; false means someone else (a resolve, a human) moved it first. */
    async transition(id: string, request: TransitionRequest): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const current = await client.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1 FOR UPDATE', [id]);
        const row = current.rows[0];
        if (!row || !request.from.includes(row.state)) return false;
        const sets = ['state = $2', 'open = $3', 'state_reason = $4', 'updated_at = now()'];
        const values: unknown[] = [id, request.to, !isTerminal(request.to), request.reason ?? null];
        for (const [key, column] of Object.entries(PATCHABLE)) {
          const value = request.patch?.[key as keyof IncidentPatch];
          if (value === undefined) continue;
          values.push(JSON.stringify(value, withoutNul));
          sets.push(`${column} = $${values.length}`);
        }
        await client.query(`UPDATE incidents SET ${sets.join(', ')} WHERE id = $1`, values);
        await appendAuditEvent(client, {
          incidentId: id,
          actor: request.actor,
          kind: 'incident.state',
          data: { from: row.state, to: request.to, reason: request.reason ?? null, ...request.audit },
        });
        return true;
      });
    },

    async patch(id: string, patch: IncidentPatch, audit: { actor: string; kind: string; data: Record<string, unknown> }): Promise<void> {
      await withTransaction(pool, async (client) => {
        const sets: string[] = ['updated_at = now()'];
        const values: unknown[] = [id];
        for (const [key, column] of Object.entries(PATCHABLE)) {
          const value = patch[key as keyof IncidentPatch];
          if (value === undefined) continue;
          values.push(JSON.stringify(value, withoutNul));
          sets.push(`${column} = $${values.length}`);
        }
        await client.query(`UPDATE incidents SET ${sets.join(', ')} WHERE id = $1`, values);
        await appendAuditEvent(client, { incidentId: id, ...audit });
      });
    },

    async get(id: string): Promise<Incident | null> {
      const result = await pool.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
      return result.rows[0] ? toIncident(result.rows[0]) : null;
    },

    async getRecord(id: string): Promise<IncidentRecord | null> {
      const incident = await this.get(id);
      if (!incident) return null;
      const [alerts, approvals, runs, investigation, audit] = await Promise.all([
        pool.query('SELECT * FROM alert_notifications WHERE incident_id = $1 ORDER BY id', [id]),
        pool.query('SELECT * FROM approvals WHERE incident_id = $1 ORDER BY id', [id]),
        listRuns(pool, id),
        pool.query<{ record: Investigation }>('SELECT record FROM investigations WHERE incident_id = $1', [id]),
        listAuditEvents(pool, id),
      ]);
      return {
        ...incident,
        alerts: alerts.rows.map((r) => ({
          status: r.status,
          receivedAt: r.received_at,
          lastReceivedAt: r.last_received_at,
          deliveries: r.deliveries,
          receiver: r.receiver,
          alert: r.alert,
        })),
        approvals: approvals.rows.map((r) => ({
          approver: r.approver,
          approved: r.approved,
          reason: r.reason,
          modifications: r.modifications,
          channel: r.channel,
          createdAt: r.created_at,
        })),
        runs,
        investigation: investigation.rows[0]?.record ?? null,
        audit,
      };
    },

    /** Stores the investigation (a replayed step overwrites its own earlier attempt) with its audit event. */
    async saveInvestigation(id: string, investigation: Investigation): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO investigations (incident_id, outcome, reason, provider, model, input_tokens, output_tokens, cost_usd, record)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
           ON CONFLICT (incident_id) DO UPDATE SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, provider = EXCLUDED.provider,
             model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
             cost_usd = EXCLUDED.cost_usd, record = EXCLUDED.record, created_at = now()`,
          [
            id,
            investigation.outcome,
            investigation.reason,
            investigation.provider,
            investigation.model,
            investigation.usage.inputTokens,
            investigation.usage.outputTokens,
            investigation.usage.costUsd,
            JSON.stringify(investigation, withoutNul),
          ],
        );
        await appendAuditEvent(client, {
          incidentId: id,
          actor: `agent:${investigation.provider}/${investigation.model}`,
          kind: 'agent.investigation',
          data: {
            outcome: investigation.outcome,
            reason: investigation.reason,
            action: investigation.proposal?.action ?? null,
            modelCalls: investigation.modelCalls,
            toolCalls: investigation.toolCalls,
            usage: investigation.usage,
          },
        });
      });
    },

    async list(filter: { state?: IncidentState; limit?: number } = {}): Promise<IncidentSummary[]> {
      const limit = Math.min(filter.limit ?? 100, 1000);
      const result = filter.state
        ? await pool.query<IncidentRow>('SELECT * FROM incidents WHERE state = $1 ORDER BY created_at DESC LIMIT $2', [filter.state, limit])
        : await pool.query<IncidentRow>('SELECT * FROM incidents ORDER BY created_at DESC LIMIT $1', [limit]);
      return result.rows.map(toSummary);
    },

    async countByState(): Promise<Record<string, number>> {
      const result = await pool.query<{ state: string; count: number }>('SELECT state, count(*)::int AS count FROM incidents GROUP BY state');
      return Object.fromEntries(result.rows.map((r) => [r.state, r.count]));
    },

    /** Incidents that a route wants acted on but whose workflow may never have started (crash between commit and start). */
    async listAwaitingWorkflow(): Promise<string[]> {
      const result = await pool.query<{ id: string }>(`SELECT id FROM incidents WHERE state = 'received' AND route IS NOT NULL`);
      return result.rows.map((r) => r.id);
    },

    async recordApproval(
      id: string,
      approval: { approver: string; approved: boolean; reason: string; modifications?: Record<string, unknown>; channel: string },
    ): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query('INSERT INTO approvals (incident_id, approver, approved, reason, modifications, channel) VALUES ($1,$2,$3,$4,$5,$6)', [
          id,
          approval.approver,
          approval.approved,
          approval.reason,
          approval.modifications ? JSON.stringify(approval.modifications) : null,
          approval.channel,
        ]);
        await appendAuditEvent(client, {
          incidentId: id,
          actor: approval.approver,
          kind: approval.approved ? 'approval.granted' : 'approval.rejected',
          data: { reason: approval.reason, modifications: approval.modifications ?? null, channel: approval.channel },
        });
      });
    },

    /** Whether this approver already approved since the incident last changed state (the current request). */
    async hasApprovedSince(id: string, approver: string, since: string): Promise<boolean> {
      const result = await pool.query('SELECT 1 FROM approvals WHERE incident_id = $1 AND approver = $2 AND approved AND created_at >= $3 LIMIT 1', [id, approver, since]);
      return (result.rowCount ?? 0) > 0;
    },

    async countRecentRemediations(target: string, withinSeconds = 3600): Promise<number> {
      const result = await pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM remediation_runs WHERE kind = 'execute' AND target = $1 AND started_at > now() - make_interval(secs => $2)`,
        [target, withinSeconds],
      );
      return result.rows[0]?.count ?? 0;
    },

    async claimRun(run: { id: string; incidentId: string; kind: 'dry-run' | 'execute'; actionId: string; target: string; inputs: Record<string, unknown> }): Promise<void> {
      await withTransaction(pool, async (client) => {
        const inserted = await client.query(
          `INSERT INTO remediation_runs (id, incident_id, kind, action_id, target, inputs, state) VALUES ($1,$2,$3,$4,$5,$6,'claimed') ON CONFLICT (id) DO NOTHING`,
          [run.id, run.incidentId, run.kind, run.actionId, run.target, JSON.stringify(run.inputs)],
        );
        if (inserted.rowCount === 1) {
          await appendAuditEvent(client, { incidentId: run.incidentId, actor: 'responder', kind: `run.claimed`, data: { runId: run.id, kind: run.kind, action: run.actionId, target: run.target } });
        }
      });
    },

    /**
     * Moves a claimed run to running. Returns false when the run had already started once:
     * a crash happened mid-run and nobody knows what the remediation did.
     */
    async startRun(runId: string): Promise<boolean> {
      const result = await pool.query(`UPDATE remediation_runs SET state = 'running', started_at = now() WHERE id = $1 AND state = 'claimed'`, [runId]);
      return result.rowCount === 1;
    },

    async finishRun(runId: string, incidentId: string, outcome: { state: RunState; exitCode: number | null; output: string }): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query('UPDATE remediation_runs SET state = $2, exit_code = $3, output = $4, finished_at = now() WHERE id = $1', [
          runId,
          outcome.state,
          outcome.exitCode,
          outcome.output,
        ]);
        await appendAuditEvent(client, { incidentId, actor: 'responder', kind: 'run.finished', data: { runId, state: outcome.state, exitCode: outcome.exitCode } });
      });
    },

    async getRun(runId: string): Promise<RemediationRun | null> {
      const result = await pool.query('SELECT * FROM remediation_runs WHERE id = $1', [runId]);
      return result.rows[0] ? toRun(result.rows[0]) : null;
    },
  };
}

function toRun(r: Record<string, unknown>): RemediationRun {
  return {
    id: r.id as string,
    kind: r.kind as RemediationRun['kind'],
    actionId: r.action_id as string,
    target: r.target as string,
    inputs: r.inputs as Record<string, unknown>,
    state: r.state as RunState,
    exitCode: r.exit_code as number | null,
    output: r.output as string | null,
    startedAt: r.started_at as string,
    finishedAt: r.finished_at as string | null,
  };
}

async function listRuns(db: Queryable, incidentId: string): Promise<RemediationRun[]> {
  const result = await db.query('SELECT * FROM remediation_runs WHERE incident_id = $1 ORDER BY started_at', [incidentId]);
  return result.rows.map(toRun);
}

export type IncidentStore = ReturnType<typeof createIncidentStore>;
