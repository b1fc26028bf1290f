import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../domain/approval.js';
import type { Identity } from '../domain/identity.js';
import type { JsonObject } from '../domain/json-value.js';
import type { ApprovalChannel } from './approval-channel.js';

/** What a person in the channel sees of one request. */
export interface Shown {
  state: string;
  decisions: { approver: string; channel: string }[];
  /** How many times the request was put in front of people (a restart must not post it twice). */
  posts: number;
}

export interface ChannelUnderTest {
  channel: ApprovalChannel;
  /** A person decides the way they would in this channel. */
  decide(person: Identity, request: ApprovalRequest, decision: { approved: boolean; reason: string; modifications?: JsonObject }): Promise<{ accepted: boolean; code?: string }>;
  shown(request: ApprovalRequest): Promise<Shown | null>;
}

/** The approval core the channel sits on: real stores, submitDecision and the announcer. */
export interface ApprovalWorld {
  /** An incident awaiting approval with an open request, already posted to the channel under test. */
  openRequest(approvalsRequired: number): Promise<ApprovalRequest>;
  /** Re-announces an open request, as a restarted service does. */
  repost(request: ApprovalRequest): Promise<void>;
  /** Ends the request the way the workflow does when the deadline passes. */
  expire(request: ApprovalRequest): Promise<ApprovalRequest>;
  current(request: ApprovalRequest): Promise<ApprovalRequest>;
  close(): Promise<void>;
}

const alice: Identity = { name: 'alice', role: 'approver', source: 'token' };
const bob: Identity = { name: 'bob', role: 'approver', source: 'token' };
const vera: Identity = { name: 'vera', role: 'viewer', source: 'token' };

/** What every ApprovalChannel must do; run on each channel against the same approval core. */
export function describeApprovalChannelContract(name: string, setup: () => Promise<{ world: ApprovalWorld; subject: ChannelUnderTest }>): void {
  describe(`ApprovalChannel contract: ${name}`, () => {
    let world: ApprovalWorld;
    let subject: ChannelUnderTest;
    beforeAll(async () => {
      ({ world, subject } = await setup());
    });
    afterAll(async () => world?.close());

    it('shows a new request once, even when it is posted again after a restart', async () => {
      const request = await world.openRequest(1);
      await world.repost(request);
      expect(await subject.shown(request)).toEqual({ state: 'open', decisions: [], posts: 1 });
    });

    it("records an approver's decision with the person's name and this channel, and shows it", async () => {
      const request = await world.openRequest(2);
      expect(await subject.decide(alice, request, { approved: true, reason: 'looks right' })).toEqual({ accepted: true });
      expect((await world.current(request)).decisions).toEqual([expect.objectContaining({ approver: 'alice', approved: true, channel: subject.channel.name })]);
      expect((await subject.shown(request))?.decisions).toEqual([{ approver: 'alice', channel: subject.channel.name }]);
    });

    it('refuses a viewer and records nothing', async () => {
      const request = await world.openRequest(1);
      expect(await subject.decide(vera, request, { approved: true, reason: 'I only watch' })).toEqual({ accepted: false, code: 'forbidden' });
      expect((await world.current(request)).decisions).toEqual([]);
    });

    it('counts a person once: a second decision by the same person is refused', async () => {
      const request = await world.openRequest(2);
      expect((await subject.decide(alice, request, { approved: true, reason: 'first' })).accepted).toBe(true);
      expect(await subject.decide(alice, request, { approved: true, reason: 'again' })).toEqual({ accepted: false, code: 'already-decided' });
      expect((await world.current(request)).decisions.map((d) => d.approver)).toEqual(['alice']);
    });

    it('settles the request when enough distinct people approve, and one rejection rejects', async () => {
      const approved = await world.openRequest(2);
      await subject.decide(alice, approved, { approved: true, reason: 'one' });
      await subject.decide(bob, approved, { approved: true, reason: 'two' });
      expect((await world.current(approved)).state).toBe('approved');
      const rejected = await world.openRequest(2);
      await subject.decide(alice, rejected, { approved: true, reason: 'yes' });
      await subject.decide(bob, rejected, { approved: false, reason: 'no' });
      expect((await world.current(rejected)).state).toBe('rejected');
    });

    it('withdraws an ended request and refuses decisions on it', async () => {
      const request = await world.openRequest(1);
      await world.expire(request);
      expect((await subject.shown(request))?.state).toBe('expired');
      expect(await subject.decide(alice, request, { approved: true, reason: 'too late' })).toEqual({ accepted: false, code: 'stale-request' });
    });
  });
}
