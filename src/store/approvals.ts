import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Pool, Queryable } from '../database/database.js';
import { withTransaction } from '../database/database.js';
import { appendAuditEvent } from '../audit/audit-store.js';
import {
  ApprovalDecisionSchema,
  ApprovalRequestSchema,
  type ApprovalChannelName,
  type ApprovalDecision,
  type ApprovalRequest,
  type ApprovalRequestState,
} from '../domain/approval.js';
import type { JsonObject } from '../domain/json-value.js';
import type { Risk } from '../domain/proposal.js';
import { toJsonb } from './json-column.js';

interface DecisionRow {
  request_id: string | null;
  approver: string;
  approved: boolean;
  reason: string;
  modifications: unknown;
  channel: string;
  created_at: string;
}

interface RequestRow {
  id: string;
  incident_id: string;
  round: number;
  action_id: string;
  inputs: unknown;
  risk: string;
  proposal_hash: string;
  approvals_required: number;
  policy_reasons: unknown;
  deadline: string;
  state: string;
  state_reason: string | null;
  modifications: unknown;
  modified_by: string | null;
  created_at: string;
  decided_at: string | null;
}

function toDecision(r: DecisionRow): ApprovalDecision {
  return ApprovalDecisionSchema.parse({
    requestId: r.request_id,
    approver: r.approver,
    approved: r.approved,
    reason: r.reason,
    modifications: r.modifications,
    channel: r.channel,
    createdAt: r.created_at,
  });
}

function toRequest(r: RequestRow, decisions: ApprovalDecision[]): ApprovalRequest {
  return ApprovalRequestSchema.parse({
    id: r.id,
    incidentId: r.incident_id,
    round: r.round,
    actionId: r.action_id,
    inputs: r.inputs,
    risk: r.risk,
    proposalHash: r.proposal_hash,
    approvalsRequired: r.approvals_required,
    policyReasons: r.policy_reasons,
    deadline: r.deadline,
    state: r.state,
    stateReason: r.state_reason,
    modifications: r.modifications,
    modifiedBy: r.modified_by,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decisions: decisions.filter((d) => d.requestId === r.id),
  });
}

export async function listApprovals(db: Queryable, incidentId: string): Promise<ApprovalDecision[]> {
  const result = await db.query<DecisionRow>('SELECT * FROM approvals WHERE incident_id = $1 AND withdrawn_at IS NULL ORDER BY id', [incidentId]);
  return result.rows.map(toDecision);
}

export async function listApprovalRequests(db: Queryable, incidentId: string, decisions?: ApprovalDecision[]): Promise<ApprovalRequest[]> {
  const [requests, all] = await Promise.all([
    db.query<RequestRow>('SELECT * FROM approval_requests WHERE incident_id = $1 ORDER BY round', [incidentId]),
    decisions ? Promise.resolve(decisions) : listApprovals(db, incidentId),
  ]);
  return requests.rows.map((row) => toRequest(row, all));
}

async function loadRequest(db: Queryable, id: string): Promise<ApprovalRequest | null> {
  const found = await db.query<RequestRow>('SELECT * FROM approval_requests WHERE id = $1', [id]);
  if (!found.rows[0]) return null;
  const decisions = await db.query<DecisionRow>('SELECT * FROM approvals WHERE request_id = $1 AND withdrawn_at IS NULL ORDER BY id', [id]);
  return toRequest(found.rows[0], decisions.rows.map(toDecision));
}

export interface NewApprovalRequest {
  incidentId: string;
  round: number;
  actionId: string;
  inputs: JsonObject;
  risk: Risk;
  proposalHash: string;
  approvalsRequired: number;
  policyReasons: string[];
  deadline: string;
  /** The person whose modification opened this round: they approved exactly these inputs. */
  carriedApproval?: { approver: string; channel: ApprovalChannelName; reason: string };
}

export interface DecisionRecord {
  requestId: string;
  approver: string;
  approved: boolean;
  reason: string;
  /** The whole inputs the modifier approved, already merged and validated. */
  modifiedInputs?: JsonObject;
  modifications?: JsonObject;
  channel: ApprovalChannelName;
}

export type DecisionWrite =
  | { kind: 'recorded'; request: ApprovalRequest }
  | { kind: 'stale'; request: ApprovalRequest }
  | { kind: 'already-decided'; request: ApprovalRequest }
  | { kind: 'not-awaiting'; incidentState: string }
  | { kind: 'not-found' };

export type WithdrawalWrite =
  | { kind: 'withdrawn'; request: ApprovalRequest }
  /** The request is settled (or the incident moved on): a counted decision stays counted. */
  | { kind: 'final'; request: ApprovalRequest }
  | { kind: 'nothing-to-withdraw'; request: ApprovalRequest }
  | { kind: 'not-found' };

const FINAL_KIND: Record<Exclude<ApprovalRequestState, 'open'>, string> = {
  approved: 'approval.request.approved',
  rejected: 'approval.request.rejected',
  superseded: 'approval.request.superseded',
  expired: 'approval.request.expired',
  closed: 'approval.request.closed',
};

async function closeRequest(client: pg.PoolClient, request: ApprovalRequest, state: Exclude<ApprovalRequestState, 'open'>, reason: string, actor: string, extra: { modifications?: JsonObject; modifiedBy?: string } = {}) {
  await client.query(
    'UPDATE approval_requests SET state = $2, state_reason = $3, modifications = $4, modified_by = $5, decided_at = now() WHERE id = $1',
    [request.id, state, reason, extra.modifications ? toJsonb(extra.modifications) : null, extra.modifiedBy ?? null],
  );
  await appendAuditEvent(client, {
    incidentId: request.incidentId,
    actor,
    kind: FINAL_KIND[state],
    data: { requestId: request.id, round: request.round, proposalHash: request.proposalHash, reason, ...(extra.modifications ? { modifications: extra.modifications } : {}) },
  });
}

/** Approval requests and the decisions on them; every decision is checked and counted under the request's row lock. */
export function createApprovalStore(pool: Pool) {
  return {
    /** Opens a round's request; a replayed step finds the one it opened before. */
    async openRequest(request: NewApprovalRequest): Promise<ApprovalRequest> {
      return withTransaction(pool, async (client) => {
        const existing = await client.query<{ id: string }>('SELECT id FROM approval_requests WHERE incident_id = $1 AND round = $2', [request.incidentId, request.round]);
        if (existing.rows[0]) return (await loadRequest(client, existing.rows[0].id))!;
        const id = randomUUID();
        await client.query(
          `INSERT INTO approval_requests (id, incident_id, round, action_id, inputs, risk, proposal_hash, approvals_required, policy_reasons, deadline, state)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'open')`,
          [id, request.incidentId, request.round, request.actionId, toJsonb(request.inputs), request.risk, request.proposalHash, request.approvalsRequired, toJsonb(request.policyReasons), request.deadline],
        );
        await appendAuditEvent(client, {
          incidentId: request.incidentId,
          actor: 'responder',
          kind: 'approval.requested',
          data: {
            requestId: id,
            round: request.round,
            action: request.actionId,
            inputs: request.inputs,
            risk: request.risk,
            proposalHash: request.proposalHash,
            approvalsRequired: request.approvalsRequired,
            policyReasons: request.policyReasons,
            deadline: request.deadline,
          },
        });
        const carried = request.carriedApproval;
        if (carried) {
          await client.query('INSERT INTO approvals (incident_id, request_id, approver, approved, reason, modifications, channel) VALUES ($1,$2,$3,true,$4,NULL,$5)', [
            request.incidentId,
            id,
            carried.approver,
            carried.reason,
            carried.channel,
          ]);
          await appendAuditEvent(client, {
            incidentId: request.incidentId,
            actor: carried.approver,
            kind: 'approval.granted',
            data: { requestId: id, round: request.round, proposalHash: request.proposalHash, inputs: request.inputs, reason: carried.reason, channel: carried.channel, carried: true },
          });
          const opened = (await loadRequest(client, id))!;
          if (opened.decisions.length >= request.approvalsRequired) await closeRequest(client, opened, 'approved', 'approved by the person who modified it', carried.approver);
        }
        return (await loadRequest(client, id))!;
      });
    },

    get: (id: string) => loadRequest(pool, id),

    async openFor(incidentId: string): Promise<ApprovalRequest | null> {
      const found = await pool.query<{ id: string }>(`SELECT id FROM approval_requests WHERE incident_id = $1 AND state = 'open'`, [incidentId]);
      return found.rows[0] ? loadRequest(pool, found.rows[0].id) : null;
    },

    /**
     * Records one person's decision on an open request and applies it, atomically: the request row is
     * locked, the incident must still await approval, one decision per person (unique index), and the
     * request's outcome (approved, rejected, superseded) is settled in the same transaction.
     */
    async decide(decision: DecisionRecord): Promise<DecisionWrite> {
      return withTransaction(pool, async (client) => {
        const locked = await client.query<RequestRow & { incident_state: string }>(
          'SELECT r.*, i.state AS incident_state FROM approval_requests r JOIN incidents i ON i.id = r.incident_id WHERE r.id = $1 FOR UPDATE OF r',
          [decision.requestId],
        );
        const row = locked.rows[0];
        if (!row) return { kind: 'not-found' as const };
        const before = (await loadRequest(client, row.id))!;
        if (row.incident_state !== 'awaiting_approval' && row.state === 'open') return { kind: 'not-awaiting' as const, incidentState: row.incident_state };
        if (row.state !== 'open') return { kind: 'stale' as const, request: before };
        if (before.decisions.some((d) => d.approver === decision.approver)) return { kind: 'already-decided' as const, request: before };
        const inserted = await client.query(
          `INSERT INTO approvals (incident_id, request_id, approver, approved, reason, modifications, channel) VALUES ($1,$2,$3,$4,$5,$6,$7)
           ON CONFLICT (request_id, approver) WHERE request_id IS NOT NULL AND withdrawn_at IS NULL DO NOTHING`,
          [row.incident_id, row.id, decision.approver, decision.approved, decision.reason, decision.modifications ? toJsonb(decision.modifications) : null, decision.channel],
        );
        if (inserted.rowCount !== 1) return { kind: 'already-decided' as const, request: before };
        await appendAuditEvent(client, {
          incidentId: row.incident_id,
          actor: decision.approver,
          kind: decision.approved ? 'approval.granted' : 'approval.rejected',
          data: {
            requestId: row.id,
            round: row.round,
            proposalHash: row.proposal_hash,
            action: row.action_id,
            inputs: before.inputs,
            reason: decision.reason,
            modifications: decision.modifications ?? null,
            channel: decision.channel,
          },
        });
        if (!decision.approved) {
          await closeRequest(client, before, 'rejected', `rejected by ${decision.approver}: ${decision.reason}`, decision.approver);
        } else if (decision.modifiedInputs) {
          await closeRequest(client, before, 'superseded', `${decision.approver} approved with modifications; the new inputs are dry-run and checked by policy again`, decision.approver, {
            modifications: decision.modifiedInputs,
            modifiedBy: decision.approver,
          });
        } else if (before.decisions.filter((d) => d.approved).length + 1 >= row.approvals_required) {
          await closeRequest(client, before, 'approved', `approved by ${[...before.decisions.map((d) => d.approver), decision.approver].join(', ')}`, decision.approver);
        }
        return { kind: 'recorded' as const, request: (await loadRequest(client, row.id))! };
      });
    },

    /**
     * Takes back one person's approval while the request is still open, under the same row lock as
     * decide(): a withdrawal and the decision that would settle the request cannot both win. Only an
     * approval is withdrawn; a rejection settles the request at once, so there is none to take back.
     */
    async withdraw(requestId: string, approver: string, channel: ApprovalChannelName): Promise<WithdrawalWrite> {
      return withTransaction(pool, async (client) => {
        const locked = await client.query<RequestRow & { incident_state: string }>(
          'SELECT r.*, i.state AS incident_state FROM approval_requests r JOIN incidents i ON i.id = r.incident_id WHERE r.id = $1 FOR UPDATE OF r',
          [requestId],
        );
        const row = locked.rows[0];
        if (!row) return { kind: 'not-found' as const };
        const before = (await loadRequest(client, row.id))!;
        if (row.state !== 'open' || row.incident_state !== 'awaiting_approval') return { kind: 'final' as const, request: before };
        const taken = await client.query(
          'UPDATE approvals SET withdrawn_at = now() WHERE request_id = $1 AND approver = $2 AND approved AND withdrawn_at IS NULL',
          [row.id, approver],
        );
        if (taken.rowCount !== 1) return { kind: 'nothing-to-withdraw' as const, request: before };
        await appendAuditEvent(client, {
          incidentId: row.incident_id,
          actor: approver,
          kind: 'approval.withdrawn',
          data: { requestId: row.id, round: row.round, proposalHash: row.proposal_hash, channel },
        });
        return { kind: 'withdrawn' as const, request: (await loadRequest(client, row.id))! };
      });
    },

    /** Ends an open request that nobody finished (deadline) or that no longer matters (incident closed); answers its final form. */
    async finish(requestId: string, state: 'expired' | 'closed', reason: string): Promise<ApprovalRequest> {
      return withTransaction(pool, async (client) => {
        await client.query('SELECT 1 FROM approval_requests WHERE id = $1 FOR UPDATE', [requestId]);
        const request = (await loadRequest(client, requestId))!;
        if (request.state !== 'open') return request;
        await closeRequest(client, request, state, reason, 'responder');
        return (await loadRequest(client, requestId))!;
      });
    },
  };
}

export type ApprovalStore = ReturnType<typeof createApprovalStore>;
