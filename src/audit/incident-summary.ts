import { z } from 'zod';
import type { IncidentRecord } from '../domain/incident-record.js';
import { TERMINAL_STATES, type IncidentState } from '../domain/incident.js';
import { JsonObjectSchema } from '../domain/json-value.js';

/**
 * One line per finished incident, shipped to Loki beside the events: the seed's INCIDENT_AUDIT record
 * (alert, instance, diagnosis, proposed action, approved, reason) plus what happened after, so a
 * Grafana panel can list incidents without reassembling them from events.
 */
export const IncidentAuditSummarySchema = z.object({
  record: z.literal('INCIDENT_AUDIT'),
  incident_id: z.string(),
  alert: z.string(),
  instance: z.string().nullable(),
  severity: z.string(),
  route: z.string().nullable(),
  state: z.string(),
  state_reason: z.string().nullable(),
  diagnosis: z.string().nullable(),
  proposed_action: z.string().nullable(),
  proposed_inputs: JsonObjectSchema.nullable(),
  /** true: approved (by people or by policy); false: rejected or nobody decided in time; null: never asked. */
  approved: z.boolean().nullable(),
  approvers: z.array(z.string()),
  /** The deciders' own words: the approvers' reasons, the rejecter's, or policy's. */
  reason: z.string().nullable(),
  /** The remediation run's final state, or "not run". */
  remediation_status: z.string(),
  verification: z.string().nullable(),
  opened_at: z.string(),
  closed_at: z.string(),
});
export type IncidentAuditSummary = z.infer<typeof IncidentAuditSummarySchema>;

/** Whether an event is the transition into a final state: the moment to anchor and to write the summary. */
export function isFinalStateEvent(event: { kind: string; data: unknown }): boolean {
  if (event.kind !== 'incident.state') return false;
  const to = (event.data as { to?: unknown } | null)?.to;
  return typeof to === 'string' && TERMINAL_STATES.includes(to as IncidentState);
}

function approval(record: IncidentRecord): Pick<IncidentAuditSummary, 'approved' | 'approvers' | 'reason'> {
  const request = record.approvalRequests.at(-1);
  if (request) {
    const approving = request.decisions.filter((d) => d.approved);
    if (request.state === 'approved') return { approved: true, approvers: approving.map((d) => d.approver), reason: approving.map((d) => d.reason).join('; ') };
    const rejecting = request.decisions.find((d) => !d.approved);
    if (request.state === 'rejected' && rejecting) return { approved: false, approvers: [], reason: rejecting.reason };
    if (request.state === 'expired') return { approved: false, approvers: [], reason: request.stateReason };
    return { approved: null, approvers: [], reason: request.stateReason };
  }
  const byPolicy = record.audit.find((e) => e.kind === 'incident.state' && (e.data as { to?: unknown }).to === 'approved');
  if (byPolicy) return { approved: true, approvers: [byPolicy.actor], reason: typeof byPolicy.data.reason === 'string' ? byPolicy.data.reason : null };
  return { approved: null, approvers: [], reason: null };
}

export function summarizeIncident(record: IncidentRecord): IncidentAuditSummary {
  const action = record.proposal?.action ?? null;
  const run = record.runs.find((r) => r.kind === 'execute');
  return {
    record: 'INCIDENT_AUDIT',
    incident_id: record.id,
    alert: record.alertName,
    instance: record.instance,
    severity: record.severity,
    route: record.route,
    state: record.state,
    state_reason: record.stateReason,
    diagnosis: record.proposal?.diagnosis ?? null,
    proposed_action: action?.id ?? null,
    proposed_inputs: action?.inputs ?? null,
    ...approval(record),
    remediation_status: run?.state ?? 'not run',
    verification: record.verification?.outcome ?? null,
    opened_at: record.createdAt,
    closed_at: record.updatedAt,
  };
}
