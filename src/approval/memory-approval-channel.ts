import type { ApprovalChannelName } from '../domain/approval.js';
import type { ApprovalChannel, ApprovalNotice } from './approval-channel.js';

export interface MemoryApprovalChannel extends ApprovalChannel {
  /** Every notice in order, as a chat room would have shown it. */
  readonly seen: { kind: 'post' | 'update' | 'withdraw'; requestId: string; state: string; decisions: { approver: string; channel: string }[] }[];
}

/** A channel that only remembers what it was told: for tests and as the smallest example of the interface. */
export function createMemoryApprovalChannel(name: ApprovalChannelName = 'web'): MemoryApprovalChannel {
  const seen: MemoryApprovalChannel['seen'] = [];
  const posted = new Set<string>();
  const remember = (kind: 'post' | 'update' | 'withdraw', { request }: ApprovalNotice) =>
    seen.push({ kind, requestId: request.id, state: request.state, decisions: request.decisions.map((d) => ({ approver: d.approver, channel: d.channel })) });
  return {
    name,
    seen,
    async post(notice) {
      // A restart re-posts open requests; the channel must show each once.
      if (posted.has(notice.request.id)) return;
      posted.add(notice.request.id);
      remember('post', notice);
    },
    async update(notice) {
      remember('update', notice);
    },
    async withdraw(notice) {
      remember('withdraw', notice);
    },
  };
}
