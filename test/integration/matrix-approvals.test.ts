import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortId } from '../../src/approval/matrix/approval-card.js';
import { matrixNoticeSubscriber } from '../../src/approval/matrix/matrix-notice-subscriber.js';
import { describeApprovalChannelContract, type ChannelUnderTest } from '../../src/approval/approval-channel.contract.js';
import { crossCheckTables } from '../../src/audit/cross-check-tables.js';
import type { ApprovalRequest } from '../../src/domain/approval.js';
import { startMatrixWorld, waitFor, type MatrixWorld } from '../support/matrix-world.js';

describe('Matrix approvals against a real Synapse', () => {
  let world: MatrixWorld;
  beforeAll(async () => {
    world = await startMatrixWorld();
  });
  afterAll(async () => world?.close());

  const posted = (request: ApprovalRequest) => waitFor('the card in the room', () => world.card(request));
  const decisions = async (request: ApprovalRequest) => (await world.approvals.get(request.id))!.decisions.map((d) => `${d.approver}:${d.approved}:${d.channel}`);

  it('posts a card that tells what is proposed, and shows hostile alert text as text: no link, no ping', async () => {
    const request = await world.openRequest(1, {
      labels: { job: '<a href="https://evil.example/">click</a>', team: '@room' },
      summary: 'disk full @room <b>now</b> ping @alice:localhost',
    });
    const card = await posted(request);
    expect(card.copies).toBe(1);
    expect(card.body).toContain('Approval needed: DiskFull on web1');
    expect(card.body).toMatch(/Proposed fix: restart-service \{.*"host":"web1".*\}/);
    expect(card.body).toContain('Risk: medium');
    expect(card.body).toContain('Approvals: 0 of 1 needed');
    expect(card.body).toContain(`!approve ${shortId(request.id)}`);
    expect(card.body).toContain(`https://responder.example.org/incidents/${request.incidentId}`);
    expect(card.body).not.toContain('@room');
    expect(card.body).not.toContain('@alice:localhost');
    expect(card.html).not.toContain('href="https://evil.example/"');
    expect(card.html).not.toContain('<b>now</b>');
    expect(card.html).toContain('&lt;a href=&quot;https://evil.example/&quot;&gt;click&lt;/a&gt;');
    // The incident page is the one link on the card.
    expect(card.html.match(/<a /g)).toHaveLength(1);
  });

  it('approves on an allow-listed ✅ and says so in the thread', async () => {
    const request = await world.openRequest(1);
    const card = await posted(request);
    await world.settled(await world.alice.react(world.roomId, card.eventId, '✅️'));
    expect((await world.approvals.get(request.id))!.state).toBe('approved');
    expect(await decisions(request)).toEqual(['alice:true:matrix']);
    await world.settled();
    const after = (await world.card(request))!;
    expect(after.thread.join('\n')).toContain('Approved by alice');
    expect(after.body).toContain('State: APPROVED');
  });

  it('counts a ✅ whose first tries failed (the database restarting): tried again, counted once', async () => {
    const request = await world.openRequest(1);
    const card = await posted(request);
    world.failNextDecisions(2);
    await world.alice.react(world.roomId, card.eventId, '✅️');
    await waitFor('the approval after two failed tries', async () => (await world.approvals.get(request.id))!.state === 'approved');
    expect(await decisions(request)).toEqual(['alice:true:matrix']);
    await world.settled();
    const after = (await world.card(request))!;
    expect(after.thread.join('\n')).toContain('Approved by alice');
    expect(after.thread.join('\n')).not.toContain('not counted');
  });

  it('rejects on ❌ and on !reject with a reason; !reject without one is refused with the usage', async () => {
    const byReaction = await world.openRequest(2);
    await world.settled(await world.bob.react(world.roomId, (await posted(byReaction)).eventId, '❌'));
    expect((await world.approvals.get(byReaction.id))!.state).toBe('rejected');

    const byCommand = await world.openRequest(1);
    const card = await posted(byCommand);
    await world.settled(await world.bob.say(world.roomId, `!reject ${shortId(byCommand.id)}`));
    expect((await world.approvals.get(byCommand.id))!.state).toBe('open');
    await world.settled(await world.bob.say(world.roomId, `!reject ${shortId(byCommand.id)} the disk is a red herring`, card.eventId));
    const rejected = (await world.approvals.get(byCommand.id))!;
    expect(rejected.state).toBe('rejected');
    expect(rejected.decisions[0]).toMatchObject({ approver: 'bob', approved: false, reason: 'the disk is a red herring', channel: 'matrix' });
    const events = await world.bob.messages(world.roomId, 200);
    expect(events.some((e) => e.content.body?.includes(`say why: !reject ${shortId(byCommand.id)} <reason>`))).toBe(true);
  });

  it("refuses an unlisted user's ✅ in the thread and changes nothing; a viewer's command is refused too", async () => {
    const request = await world.openRequest(1);
    const card = await posted(request);
    await world.settled(await world.eve.react(world.roomId, card.eventId, '✅'));
    // Again and again: one refusal in the thread, not one per reaction.
    await world.settled(await world.eve.react(world.roomId, card.eventId, '❌'));
    await world.settled(await world.eve.say(world.roomId, `!approve ${shortId(request.id)} let me`, card.eventId));
    await world.settled(await world.vera.say(world.roomId, `!approve ${shortId(request.id)} I only watch`));
    expect((await world.approvals.get(request.id))!.state).toBe('open');
    expect(await decisions(request)).toEqual([]);
    const thread = (await world.card(request))!.thread.join('\n');
    expect(thread.match(/is not on Responder's list of Matrix approvers; nothing changed/g)).toHaveLength(1);
    const events = await world.vera.messages(world.roomId, 200);
    expect(events.some((e) => e.content.body?.includes('vera: not counted (forbidden)'))).toBe(true);
  });

  it('withdraws an approval when its ✅ is redacted, while the request is open', async () => {
    const request = await world.openRequest(2);
    const card = await posted(request);
    const reaction = await world.alice.react(world.roomId, card.eventId, '✅');
    await world.settled(reaction);
    expect(await decisions(request)).toEqual(['alice:true:matrix']);
    await world.settled(await world.alice.redact(world.roomId, reaction));
    expect(await decisions(request)).toEqual([]);
    expect((await world.card(request))!.thread.join('\n')).toContain('alice withdrew their approval');
    // Withdrawn, alice may decide again, and counts once.
    await world.settled(await world.alice.say(world.roomId, `!approve ${shortId(request.id)} second look: fine`));
    expect(await decisions(request)).toEqual(['alice:true:matrix']);
  });

  it('audit verify tells a withdrawal made behind the chain from one made through Responder', async () => {
    const request = await world.openRequest(2);
    const card = await posted(request);
    await world.settled(await world.alice.react(world.roomId, card.eventId, '✅'));
    expect(await crossCheckTables(world.pool)).toEqual([]);
    await world.pool.query('UPDATE approvals SET withdrawn_at = now() WHERE request_id = $1', [request.id]);
    expect(await crossCheckTables(world.pool)).toEqual([
      { table: 'approvals', problem: expect.stringMatching(new RegExp(`\\(alice, request ${request.id} .*is marked withdrawn, but no approval.withdrawn event says so`)) },
    ]);
    await world.pool.query('UPDATE approvals SET withdrawn_at = NULL WHERE request_id = $1', [request.id]);
  });

  it('counts a quorum of two Matrix users', async () => {
    const request = await world.openRequest(2);
    const card = await posted(request);
    await world.settled(await world.alice.react(world.roomId, card.eventId, '✅'));
    expect((await world.approvals.get(request.id))!.state).toBe('open');
    await world.settled(await world.bob.say(world.roomId, `!approve ${shortId(request.id)}`));
    expect((await world.approvals.get(request.id))!.state).toBe('approved');
    expect(await decisions(request)).toEqual(['alice:true:matrix', 'bob:true:matrix']);
  });

  it('ignores reactions on other events, commands from other rooms, and an old card after the request was superseded', async () => {
    const request = await world.openRequest(1);
    const card = await posted(request);
    const chatter = await world.alice.say(world.roomId, 'just chatting');
    await world.settled(await world.alice.react(world.roomId, chatter, '✅'));
    const otherRoom = await world.alice.createRoom([world.bob.userId]);
    await world.alice.say(otherRoom, `!approve ${shortId(request.id)} from elsewhere`);
    await world.settled();
    expect(await decisions(request)).toEqual([]);

    // Someone changes the inputs (round 2): the first card's reactions must not count for the new request.
    await world.approvals.decide({ requestId: request.id, approver: 'bob', approved: true, reason: 'web2 instead', channel: 'web', modifiedInputs: { service: 'nginx', host: 'web2' }, modifications: { host: 'web2' } });
    const next = await world.approvals.openRequest({ ...request, round: 2, inputs: { service: 'nginx', host: 'web2' } });
    await world.announcer.posted(next);
    await posted(next);
    await world.settled(await world.alice.react(world.roomId, card.eventId, '✅'));
    expect(await decisions(next)).toEqual([]);
    const events = await world.alice.messages(world.roomId, 300);
    expect(events.some((e) => e.content.body?.includes('alice: not counted (stale-request)'))).toBe(true);
  });

  it("tells what happens next in the card's thread, and mentions the on-call when nobody decided", async () => {
    const request = await world.openRequest(1);
    const card = await posted(request);
    const subscriber = matrixNoticeSubscriber(world.bot.channel, async () => ({ mention: [world.bob.userId], roomId: null }));
    const notice = { incidentId: request.incidentId, subject: 'DiskFull on web1 @room', link: 'https://responder.example.org/incidents/x', state: null };
    await subscriber.onNotice({ ...notice, kind: 'executing', detail: 'Executing the approved action' }, 9001);
    await subscriber.onNotice({ ...notice, kind: 'result', state: 'resolved', detail: 'Resolved (verified): the alert condition cleared' }, 9002);
    await subscriber.onNotice({ ...notice, kind: 'approval-expired', state: 'expired', detail: 'expired' }, 9003);
    // Told again (a crash before the position moved): said once.
    await subscriber.onNotice({ ...notice, kind: 'executing', detail: 'Executing the approved action' }, 9001);
    await world.settled();
    const events = await world.bob.messages(world.roomId, 300);
    const thread = events.filter((e) => e.content['m.relates_to']?.rel_type === 'm.thread' && e.content['m.relates_to']?.event_id === card.eventId);
    expect(thread.map((e) => e.content.body)).toEqual([
      '⚙️ Executing the approved action.',
      '✅ Verified: Resolved (verified): the alert condition cleared',
      `${world.bob.userId}: ⏰ Nobody decided on DiskFull on web1 @\u2060room before the deadline. Please look: https://responder.example.org/incidents/x`,
    ]);
    expect(thread[2]!.content['m.mentions']).toEqual({ user_ids: [world.bob.userId] });
    expect(thread[0]!.content['m.mentions']).toEqual({});
  });

  it('posts no second card after a restart', async () => {
    const request = await world.openRequest(1);
    await posted(request);
    await world.restartBot();
    await world.announcer.posted(request);
    await world.settled();
    expect((await world.card(request))!.copies).toBe(1);
    // The restarted bot still acts on the card it posted before.
    await world.settled(await world.alice.react(world.roomId, (await world.card(request))!.eventId, '✅'));
    expect((await world.approvals.get(request.id))!.state).toBe('approved');
  });

  it('after a restart, acts on what was said while Responder was down, in order, beyond the first sync', async () => {
    const withdrawn = await world.openRequest(1);
    const counted = await world.openRequest(1);
    const withdrawnCard = await posted(withdrawn);
    const countedCard = await posted(counted);
    await world.settled();
    await world.stopBot();
    // A ✅ taken back, then a ✅ that stands, then more chatter than the first sync after a restart shows.
    await world.alice.redact(world.roomId, await world.alice.react(world.roomId, withdrawnCard.eventId, '✅️'));
    await world.bob.react(world.roomId, countedCard.eventId, '✅️');
    for (let i = 0; i < 60; i += 1) await world.vera.say(world.roomId, `chatter ${i}`);
    world.startBot();
    await waitFor('the ✅ given while Responder was down to count', async () => (await world.approvals.get(counted.id))!.state === 'approved', 30_000);
    expect(await decisions(counted)).toEqual(['bob:true:matrix']);
    // Read in the order given, before the ✅ that stands: the redacted one left nothing to count.
    expect((await world.approvals.get(withdrawn.id))!.state).toBe('open');
    expect(await decisions(withdrawn)).toEqual([]);
    await world.settled();
  });

  it('delivers a card queued while the homeserver was down once it is back', async () => {
    await world.synapse.stop();
    const request = await world.openRequest(1);
    // Approval still works meanwhile, through any other channel.
    const { rows } = await world.pool.query<{ attempts: number }>("SELECT attempts FROM outbox WHERE dedupe_key = $1", [`matrix:card:${request.id}`]);
    expect(rows).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await world.synapse.start();
    const card = await waitFor('the card after the homeserver came back', () => world.card(request), 60_000);
    expect(card.copies).toBe(1);
    await world.settled(await world.bob.react(world.roomId, card.eventId, '✅'));
    expect((await world.approvals.get(request.id))!.state).toBe('approved');
  });
});

describeApprovalChannelContract('Matrix (real Synapse)', async () => {
  const world = await startMatrixWorld();
  const people = { alice: world.alice, bob: world.bob, vera: world.vera };
  const subject: ChannelUnderTest = {
    channel: world.bot.channel,
    async decide(person, request, decision) {
      const before = (await world.approvals.get(request.id))!.decisions.length;
      const client = people[person.name as keyof typeof people];
      const command = `!${decision.approved ? 'approve' : 'reject'} ${shortId(request.id)} ${decision.reason}`;
      const sent = await client.say(world.roomId, command);
      await world.settled(sent);
      const after = (await world.approvals.get(request.id))!.decisions;
      if (after.length > before && after.some((d) => d.approver === person.name)) return { accepted: true };
      const events = await client.messages(world.roomId, 200);
      const refusal = events.reverse().find((e) => (e.content['m.relates_to'] as { event_id?: string } | undefined)?.event_id === sent && /not counted \(([a-z-]+)\)/.test(e.content.body ?? ''));
      return { accepted: false, code: /not counted \(([a-z-]+)\)/.exec(refusal?.content.body ?? '')?.[1] ?? 'no-answer' };
    },
    async shown(request) {
      await world.settled();
      const card = await world.card(request);
      if (!card) return null;
      const stateLine = /State: (\S+)/.exec(card.body)?.[1] ?? '';
      const state = stateLine === 'waiting' ? 'open' : stateLine.toLowerCase();
      const approvalsLine = /Approvals: [^\n]*/.exec(card.body)?.[0] ?? '';
      const decisions = [...approvalsLine.matchAll(/(\S+) [✅❌] \((\w+)\)/g)].map((m) => ({ approver: m[1]!, channel: m[2]! }));
      return { state, decisions, posts: card.copies };
    },
  };
  return {
    subject,
    world: {
      openRequest: (n) => world.openRequest(n),
      repost: (request) => world.announcer.posted(request),
      async expire(request) {
        const ended = await world.approvals.finish(request.id, 'expired', 'contract deadline');
        await world.announcer.withdrawn(ended);
        return ended;
      },
      current: async (request) => (await world.approvals.get(request.id))!,
      close: () => world.close(),
    },
  };
});
