import type { Pool } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { createHash } from 'node:crypto';
import { appendAuditEvent, type AuditEventDraft } from '../audit/audit-store.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { isTerminal, type IncidentState, type RouteChoice } from '../domain/incident.js';
import { IncidentSchema, IncidentSummarySchema, type DryRun, type Incident, type IncidentSummary, type PolicyDecisionRecord } from '../domain/incident-record.js';
import type { EvidenceItem, Proposal } from '../domain/proposal.js';
import type { Verification } from '../domain/verification.js';
import { toJsonb } from './json-column.js';

interface IncidentRow {
  id: string;
  fingerprint: string;
  source: string;
  state: string;
  state_reason: string | null;
  route: string | null;
  mode: string | null;
  alert_name: string;
  severity: string;
  instance: string | null;
  labels: unknown;
  annotations: unknown;
  expression: string | null;
  evidence: unknown;
  proposal: unknown;
  dry_run: unknown;
  decision: unknown;
  verification: unknown;
  created_at: string;
  updated_at: string;
}

const SUMMARY_COLUMNS = 'id, fingerprint, state, state_reason, route, mode, alert_name, severity, instance, created_at, updated_at';

function summaryFields(row: IncidentRow) {
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
  return IncidentSchema.parse({
    ...summaryFields(row),
    source: row.source,
    labels: row.labels,
    annotations: row.annotations,
    expression: row.expression,
    evidence: row.evidence,
    proposal: row.proposal,
    dryRun: row.dry_run,
    decision: row.decision,
    verification: row.verification,
  });
}

/** The parts of an incident a workflow stage fills in, each with its domain type. */
export interface IncidentPatch {
  evidence?: EvidenceItem[];
  proposal?: Proposal;
  dryRun?: DryRun;
  decision?: PolicyDecisionRecord;
  verification?: Verification;
}

const PATCH_COLUMNS: Record<keyof IncidentPatch, string> = {
  evidence: 'evidence',
  proposal: 'proposal',
  dryRun: 'dry_run',
  decision: 'decision',
  verification: 'verification',
};

export interface IncidentListFilter {
  state?: IncidentState;
  severity?: string;
  route?: string;
  text?: string;
  limit?: number;
}

export interface TransitionRequest {
  from: readonly IncidentState[];
  to: IncidentState;
  actor: string;
  reason?: string;
  patch?: IncidentPatch;
  audit?: Record<string, unknown>;
}

export type IncidentAudit = Omit<AuditEventDraft, 'incidentId'>;

/**
 * The SHA-256 of each patched column's canonical JSON, as the column will hand it back, for the event that
 * records the patch: the chain then vouches for the evidence, proposal, dry-run, policy decision and
 * verification stored on the incident without carrying them, and verify checks the columns against it.
 */
function patchDigests(patch: IncidentPatch | undefined): { contentSha256?: Record<string, string> } {
  const digests: Record<string, string> = {};
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    const value = patch?.[key as keyof IncidentPatch];
    if (value === undefined) continue;
    digests[column] = createHash('sha256').update(canonicalJson(JSON.parse(toJsonb(value)))).digest('hex');
  }
  return Object.keys(digests).length > 0 ? { contentSha256: digests } : {};
}

function patchAssignments(patch: IncidentPatch | undefined, values: unknown[]): string[] {
  const sets: string[] = [];
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    const value = patch?.[key as keyof IncidentPatch];
    if (value === undefined) continue;
    values.push(toJsonb(value));
    sets.push(`${column} = $${values.length}`);
  }
  return sets;
}

export function createIncidentStore(pool: Pool) {
  return {
    async get(id: string): Promise<Incident | null> {
      const result = await pool.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
      return result.rows[0] ? toIncident(result.rows[0]) : null;
    },

    /** Newest first; every filter is optional and matched exactly, except text (alert name, instance or fingerprint contain it). */
    async list(filter: IncidentListFilter = {}): Promise<IncidentSummary[]> {
      const limit = Math.min(filter.limit ?? 100, 1000);
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (sql: (n: number) => string, value: unknown) => {
        values.push(value);
        where.push(sql(values.length));
      };
      if (filter.state) add((n) => `state = $${n}`, filter.state);
      if (filter.severity) add((n) => `severity = $${n}`, filter.severity);
      if (filter.route) add((n) => `route = $${n}`, filter.route);
      if (filter.text) add((n) => `(alert_name ILIKE $${n} OR instance ILIKE $${n} OR fingerprint ILIKE $${n})`, `%${filter.text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
      values.push(limit);
      const result = await pool.query<IncidentRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT $${values.length}`,
        values,
      );
      return result.rows.map((row) => IncidentSummarySchema.parse(summaryFields(row)));
    },

    /** What changed after `since`, for live pages. */
    async changedSince(since: string): Promise<{ id: string; state: string; updatedAt: string }[]> {
      const result = await pool.query<{ id: string; state: string; updated_at: string }>('SELECT id, state, updated_at FROM incidents WHERE updated_at > $1 ORDER BY updated_at LIMIT 200', [since]);
      return result.rows.map((r) => ({ id: r.id, state: r.state, updatedAt: r.updated_at }));
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

    /** Moves an incident only from an expected state; false means someone else (a resolve, a human) moved it first. */
    async transition(id: string, request: TransitionRequest): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const current = await client.query<{ state: IncidentState }>('SELECT state FROM incidents WHERE id = $1 FOR UPDATE', [id]);
        const row = current.rows[0];
        if (!row || !request.from.includes(row.state)) return false;
        const values: unknown[] = [id, request.to, !isTerminal(request.to), request.reason ?? null];
        const sets = ['state = $2', 'open = $3', 'state_reason = $4', 'updated_at = now()', ...patchAssignments(request.patch, values)];
        await client.query(`UPDATE incidents SET ${sets.join(', ')} WHERE id = $1`, values);
        await appendAuditEvent(client, {
          incidentId: id,
          actor: request.actor,
          kind: 'incident.state',
          data: { from: row.state, to: request.to, reason: request.reason ?? null, ...request.audit, ...patchDigests(request.patch) },
        });
        return true;
      });
    },

    /**
     * Gives a route to an incident stored while no route matched it, once a later notification of the same
     * alert does (the routes changed). Only an open incident still `received` and unrouted qualifies, so a
     * concurrent delivery or an incident already acted on is left alone; false means nothing changed.
     */
    async adoptRoute(id: string, choice: RouteChoice, actor: string): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const reason = `routed by "${choice.route}" (${choice.mode}): a later notification matched it`;
        const updated = await client.query(
          `UPDATE incidents SET route = $2, mode = $3, state_reason = $4, updated_at = now()
           WHERE id = $1 AND open AND state = 'received' AND route IS NULL`,
          [id, choice.route, choice.mode, reason],
        );
        if (updated.rowCount !== 1) return false;
        await appendAuditEvent(client, { incidentId: id, actor, kind: 'incident.routed', data: { route: choice.route, mode: choice.mode, reason } });
        return true;
      });
    },

    /** Fills in a stage's result (or only records an event) without changing the state. */
    async patch(id: string, patch: IncidentPatch, audit: IncidentAudit): Promise<void> {
      await withTransaction(pool, async (client) => {
        const values: unknown[] = [id];
        const sets = ['updated_at = now()', ...patchAssignments(patch, values)];
        await client.query(`UPDATE incidents SET ${sets.join(', ')} WHERE id = $1`, values);
        await appendAuditEvent(client, { incidentId: id, ...audit, data: { ...audit.data, ...patchDigests(patch) } });
      });
    },
  };
}

export type IncidentStore = ReturnType<typeof createIncidentStore>;
