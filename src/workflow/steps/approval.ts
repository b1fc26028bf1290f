import type { Incident } from '../../domain/incident-record.js';
import type { JsonObject } from '../../domain/json-value.js';
import { APPROVAL_TOPIC, type ApprovalMessage } from '../approval-message.js';
import { receive, step } from '../durable-runtime.js';
import { DB_RETRIES, RESPONDER, type WorkflowDeps } from '../workflow-deps.js';

export type ApprovalOutcome =
  | { kind: 'approved'; approvers: string[]; modifications?: JsonObject }
  | { kind: 'rejected'; approver: string; reason: string }
  | { kind: 'expired' }
  | { kind: 'closed' };

/** Waits for as many distinct approvers as policy asks for; one rejection ends it; the deadline is durable. */
export async function approvalStep(d: WorkflowDeps, required: number): Promise<ApprovalOutcome> {
  const deadline = await step('approval-deadline', async () => Date.now() + d.settings.approvalTimeoutSeconds * 1000);
  const approvers = new Set<string>();
  let modifications: JsonObject | undefined;
  while (approvers.size < Math.max(1, required)) {
    const message = await receive<ApprovalMessage>(APPROVAL_TOPIC, deadline);
    if (message === null) return { kind: 'expired' };
    if (message.kind === 'closed') return { kind: 'closed' };
    if (!message.approved) return { kind: 'rejected', approver: message.approver, reason: message.reason };
    approvers.add(message.approver);
    modifications = message.modifications ?? modifications;
  }
  return { kind: 'approved', approvers: [...approvers], modifications };
}

/** Nobody decided in time: tell someone who can. */
export async function escalateStep(d: WorkflowDeps, incident: Incident): Promise<void> {
  await step(
    'escalate',
    async () => {
      const result = await d.escalate(incident);
      await d.incidents.patch(incident.id, {}, { actor: RESPONDER, kind: 'approval.escalated', data: result });
    },
    { retries: DB_RETRIES },
  );
}
