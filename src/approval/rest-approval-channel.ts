import type { ApprovalChannel } from './approval-channel.js';

/**
 * The REST resume API as a channel. Clients pull: a request is in the incident record
 * (`approvalRequests`) from the moment it opens and shows each decision as it is counted, so there is
 * nothing to push; decisions come in through POST /api/v1/incidents/:id/resume and submitDecision.
 */
export function createRestApprovalChannel(): ApprovalChannel {
  return {
    name: 'api',
    post: async () => {},
    update: async () => {},
    withdraw: async () => {},
  };
}
