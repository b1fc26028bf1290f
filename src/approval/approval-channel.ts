import type { ApprovalChannelName, ApprovalRequest } from '../domain/approval.js';
import type { Incident } from '../domain/incident-record.js';

/** What a channel is told about a request, with the incident it belongs to. */
export interface ApprovalNotice {
  request: ApprovalRequest;
  incident: Incident;
}

/**
 * A place people decide: the REST resume API, the web UI, a Matrix room. Responder tells each channel
 * when a request opens, changes (a decision counted) and ends; decisions come back only through
 * submitDecision, so every channel gets the same checks.
 */
export interface ApprovalChannel {
  readonly name: ApprovalChannelName;
  /** A new request needs decisions. Called again after a restart: must not post twice. */
  post(notice: ApprovalNotice): Promise<void>;
  /** A decision was counted; show who has decided and how many are still needed. */
  update(notice: ApprovalNotice): Promise<void>;
  /** The request ended (approved, rejected, superseded, expired, closed): stop asking. */
  withdraw(notice: ApprovalNotice): Promise<void>;
}
