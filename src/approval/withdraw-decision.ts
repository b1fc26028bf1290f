import type { ApprovalChannelName, ApprovalRequest } from '../domain/approval.js';
import { hasRole, type Identity } from '../domain/identity.js';
import type { ApprovalStore } from '../store/approvals.js';

export type WithdrawalOutcome =
  | { kind: 'withdrawn'; request: ApprovalRequest }
  | { kind: 'refused'; code: 'forbidden' | 'not-found' | 'final' | 'nothing-to-withdraw'; detail: string };

export interface WithdrawalDeps {
  approvals: Pick<ApprovalStore, 'withdraw'>;
  /** Tells channels that the request changed; best effort. */
  announce(request: ApprovalRequest): void;
}

/**
 * The one way a person takes back their approval, whatever the channel: only while the request is open
 * (a settled request may already be executing), only their own, atomically with the decisions that
 * could settle it. The workflow is not woken: an open request with one approval fewer is still open.
 */
export async function withdrawDecision(
  deps: WithdrawalDeps,
  submission: { requestId: string; identity: Identity; channel: ApprovalChannelName },
): Promise<WithdrawalOutcome> {
  const { identity, requestId } = submission;
  if (!hasRole(identity.role, 'approver')) return { kind: 'refused', code: 'forbidden', detail: `${identity.name} has the ${identity.role} role and has no decision to withdraw` };
  const written = await deps.approvals.withdraw(requestId, identity.name, submission.channel);
  switch (written.kind) {
    case 'not-found':
      return { kind: 'refused', code: 'not-found', detail: `no approval request ${requestId}` };
    case 'final':
      return { kind: 'refused', code: 'final', detail: `request ${requestId} is ${written.request.state}; a counted decision can no longer be withdrawn` };
    case 'nothing-to-withdraw':
      return { kind: 'refused', code: 'nothing-to-withdraw', detail: `${identity.name} has no approval on request ${requestId} to withdraw` };
    case 'withdrawn':
      deps.announce(written.request);
      return { kind: 'withdrawn', request: written.request };
  }
}
