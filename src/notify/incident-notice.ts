import { z } from 'zod';
import type { Incident } from '../domain/incident-record.js';

/** What people are told about, and which configured `events` select it. `executing` only goes to the Matrix thread. */
export type NoticeKind = 'incident-started' | 'policy-denied' | 'approval-requested' | 'approval-expired' | 'executing' | 'result' | 'error';

/** One thing worth telling people about an incident, before any channel formats it. */
export interface IncidentNotice {
  kind: NoticeKind;
  incidentId: string;
  /** "DiskFull on web1": untrusted alert text, formatted safely by each channel. */
  subject: string;
  /** What happened, in a sentence; may hold untrusted parts (reasons, names). */
  detail: string;
  /** For results: the final state (resolved, unverified, failed, rejected, denied). */
  state: string | null;
  link: string | null;
}

/** The audit events the notices come from; anything else on the chain is not news. */
const StateChangeSchema = z.object({ from: z.string().optional(), to: z.string(), reason: z.string().nullable().optional() }).passthrough();
const RequestedSchema = z.object({ approvalsRequired: z.number().optional(), action: z.string().optional(), deadline: z.string().optional() }).passthrough();

const RESULTS = new Set(['resolved', 'unverified', 'failed', 'rejected']);
const WORKFLOW_ERROR = 'internal error';

/**
 * The notice an audit event makes, if any. Reading the chain rather than hooking the workflow means every
 * path that changes an incident (workflow, API, a replica) is told about the same way, and nothing is
 * told twice: the chain has one event per change.
 */
export function noticeFor(event: { kind: string; data: unknown }, incident: Incident, publicUrl: string | null): IncidentNotice | null {
  const base = {
    incidentId: incident.id,
    subject: `${incident.alertName} on ${incident.instance ?? 'unknown instance'}`,
    link: publicUrl ? `${publicUrl.replace(/\/+$/, '')}/incidents/${incident.id}` : null,
  };
  if (event.kind === 'approval.requested') {
    const data = RequestedSchema.safeParse(event.data);
    const needed = data.success ? (data.data.approvalsRequired ?? 1) : 1;
    const action = data.success && data.data.action ? ` to run ${data.data.action}` : '';
    return { ...base, kind: 'approval-requested', state: null, detail: `Responder asks ${needed} approver(s)${action}${data.success && data.data.deadline ? ` before ${data.data.deadline}` : ''}` };
  }
  if (event.kind !== 'incident.state') return null;
  const parsed = StateChangeSchema.safeParse(event.data);
  if (!parsed.success) return null;
  const { to, reason } = parsed.data;
  const why = reason ? `: ${reason}` : '';
  if (to === 'investigating') return { ...base, kind: 'incident-started', state: null, detail: `Responder is investigating (severity ${incident.severity})` };
  if (to === 'denied') return { ...base, kind: 'policy-denied', state: 'denied', detail: `Policy denied the proposed action${why}` };
  if (to === 'expired') return { ...base, kind: 'approval-expired', state: 'expired', detail: `Nobody decided before the deadline; escalated${why}` };
  if (to === 'executing') return { ...base, kind: 'executing', state: null, detail: 'Executing the approved action' };
  if (to === 'failed' && reason?.startsWith(WORKFLOW_ERROR)) return { ...base, kind: 'error', state: 'failed', detail: `Responder hit an error${why}` };
  if (RESULTS.has(to)) {
    const word = to === 'resolved' ? 'Resolved (verified)' : to === 'unverified' ? 'Ran, but could not be verified' : to === 'rejected' ? 'Rejected' : 'Failed';
    return { ...base, kind: 'result', state: to, detail: `${word}${why}` };
  }
  return null;
}
