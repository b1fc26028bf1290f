import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createApprovalAnnouncer, type ApprovalAnnouncer } from '../../src/approval/approval-announcer.js';
import { createDecisionRateLimiter } from '../../src/approval/decision-rate-limiter.js';
import { shortId } from '../../src/approval/matrix/approval-card.js';
import { startMatrixBot, type MatrixBot } from '../../src/approval/matrix/matrix-bot.js';
import { submitDecision, type DecisionDeps } from '../../src/approval/submit-decision.js';
import { withdrawDecision } from '../../src/approval/withdraw-decision.js';
import { createPool, type Pool } from '../../src/database/database.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrations.js';
import type { ApprovalRequest } from '../../src/domain/approval.js';
import type { Role } from '../../src/domain/identity.js';
import { freePort } from '../../src/eval/free-port.js';
import { createApprovalStore } from '../../src/store/approvals.js';
import { createIncidentStore } from '../../src/store/incidents.js';
import { createMatrixCardStore } from '../../src/store/matrix-cards.js';
import { storeFiringIncident } from './stored-incident.js';
import { createOutboxStore } from '../../src/store/outbox.js';
import { makeDataDir } from './responder-harness.js';
import { matrixPerson, startSynapse, type MatrixEvent, type MatrixPerson, type RunningSynapse } from './synapse.js';

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** What a person sees of a card: the latest content of the bot's message for a request, and its thread. */
export interface SeenCard {
  eventId: string;
  /** How many cards for this request are in the room (a restart must not add one). */
  copies: number;
  body: string;
  html: string;
  thread: string[];
}

export interface MatrixWorld {
  synapse: RunningSynapse;
  roomId: string;
  pool: Pool;
  bot: MatrixBot;
  alice: MatrixPerson;
  bob: MatrixPerson;
  vera: MatrixPerson;
  eve: MatrixPerson;
  approvals: ReturnType<typeof createApprovalStore>;
  announcer: ApprovalAnnouncer;
  openRequest(approvalsRequired: number, alert?: { labels?: Record<string, string>; summary?: string }): Promise<ApprovalRequest>;
  /** Waits until the event was handled by the bot and everything it queued reached the room. */
  settled(eventId?: string): Promise<void>;
  card(request: ApprovalRequest): Promise<SeenCard | null>;
  restartBot(): Promise<void>;
  /** Responder down: the room goes on without it until startBot(). */
  stopBot(): Promise<void>;
  startBot(): void;
  /** The next `count` decisions the bot submits throw, as they do while the database restarts. */
  failNextDecisions(count: number): void;
  close(): Promise<void>;
}

/** A real Synapse with a room of four people (alice and bob approve, vera views, eve is not listed), a real PostgreSQL, the bot in between. */
export async function startMatrixWorld(): Promise<MatrixWorld> {
  const synapse = await startSynapse();
  const botUser = await synapse.register('responder');
  const [alice, bob, vera, eve] = await Promise.all(['alice', 'bob', 'vera', 'eve'].map(async (name) => matrixPerson(synapse.url, await synapse.register(name))));
  const roomId = await alice!.createRoom([botUser.userId, bob!.userId, vera!.userId, eve!.userId]);
  await Promise.all([bob!.join(roomId), vera!.join(roomId), eve!.join(roomId)]);

  const dataDir = makeDataDir();
  const database = await startEmbeddedDatabase({ dataDir, port: await freePort() });
  const pool = createPool(database.url, 5);
  await migrate(pool);
  const incidents = createIncidentStore(pool);
  const approvals = createApprovalStore(pool);
  const cards = createMatrixCardStore(pool);
  const outbox = createOutboxStore(pool);
  const log = pino({ level: process.env.MATRIX_TEST_LOG ?? 'silent' });
  const users: { matrixId: string; name: string; role: Role }[] = [
    { matrixId: alice!.userId, name: 'alice', role: 'approver' },
    { matrixId: bob!.userId, name: 'bob', role: 'approver' },
    { matrixId: vera!.userId, name: 'vera', role: 'viewer' },
  ];
  const deps: DecisionDeps = {
    approvals,
    incidents,
    checkInputs: () => [],
    rateLimiter: createDecisionRateLimiter(1000),
    // What the incident workflow does when woken: a settled request is withdrawn from the channels.
    notifyWorkflow: async (_incidentId, requestId) => {
      const request = await approvals.get(requestId);
      if (request && request.state !== 'open') void announcer.withdrawn(request);
    },
    announce: (request) => void announcer.updated(request),
  };
  let failingDecisions = 0;
  const startBot = () =>
    startMatrixBot(
      { homeserverUrl: synapse.url, accessToken: botUser.accessToken, roomId, users, publicUrl: 'https://responder.example.org', maxBackoffMs: 1000, pollMs: 200 },
      {
        cards,
        outbox,
        approvals,
        decide: (submission) => {
          if (failingDecisions > 0) {
            failingDecisions -= 1;
            return Promise.reject(new Error('Connection terminated unexpectedly'));
          }
          return submitDecision(deps, submission);
        },
        withdraw: (submission) => withdrawDecision({ approvals, announce: (request) => void announcer.updated(request) }, submission),
        log,
      },
    );
  let bot = startBot();
  // The announcer asks whichever bot runs now (a restart replaces it).
  const announcer: ApprovalAnnouncer = createApprovalAnnouncer([{ name: 'matrix', post: (n) => bot.channel.post(n), update: (n) => bot.channel.update(n), withdraw: (n) => bot.channel.withdraw(n) }], incidents, log);
  await waitFor('the bot to join the room', async () => {
    const members = await alice!.call<{ joined: Record<string, unknown> }>('GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
    return botUser.userId in members.joined;
  });

  const world: MatrixWorld = {
    synapse,
    roomId,
    pool,
    get bot() {
      return bot;
    },
    alice: alice!,
    bob: bob!,
    vera: vera!,
    eve: eve!,
    approvals,
    get announcer() {
      return announcer;
    },
    async openRequest(approvalsRequired, alert = {}) {
      const incidentId = await storeFiringIncident(pool, { name: 'DiskFull', labels: alert.labels, annotations: alert.summary ? { summary: alert.summary } : {}, receiver: 'matrix-test' });
      await incidents.transition(incidentId, { from: ['received'], to: 'awaiting_approval', actor: 'matrix-test' });
      const request = await approvals.openRequest({
        incidentId,
        round: 1,
        actionId: 'restart-service',
        inputs: { service: 'nginx', host: 'web1' },
        risk: 'medium',
        proposalHash: 'sha256:matrix-test',
        approvalsRequired,
        policyReasons: ['approve mode: every change waits for a person'],
        deadline: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await announcer.posted(request);
      return request;
    },
    async settled(eventId) {
      if (eventId) {
        await waitFor(`the bot to take ${eventId}`, async () => (await pool.query('SELECT 1 FROM matrix_inbox WHERE event_id = $1', [eventId])).rowCount === 1);
        await bot.idle();
      }
      // Announcements run in the background of a decision; give them a moment to queue.
      await sleep(300);
      await waitFor('the Matrix outbox to drain', async () => (await outbox.lag()).every((l) => l.channel !== 'matrix'));
    },
    async card(request) {
      const events = await alice!.messages(roomId, 200);
      const marker = `request ${shortId(request.id)} (round`;
      const cards = events.filter((e) => e.sender === botUser.userId && e.type === 'm.room.message' && !e.content['m.relates_to'] && e.content.body?.includes(marker));
      const first = cards[0];
      if (!first) return null;
      const edits = events.filter((e) => e.content['m.relates_to']?.rel_type === 'm.replace' && e.content['m.relates_to']?.event_id === first.event_id);
      const latest = (edits.at(-1)?.content['m.new_content'] as MatrixEvent['content'] | undefined) ?? first.content;
      const thread = events
        .filter((e) => e.content['m.relates_to']?.rel_type === 'm.thread' && e.content['m.relates_to']?.event_id === first.event_id)
        .map((e) => e.content.body ?? '');
      return { eventId: first.event_id, copies: cards.length, body: latest.body ?? '', html: latest.formatted_body ?? '', thread };
    },
    failNextDecisions(count) {
      failingDecisions = count;
    },
    async stopBot() {
      await bot.stop();
    },
    startBot() {
      bot = startBot();
    },
    async restartBot() {
      await bot.stop();
      bot = startBot();
    },
    async close() {
      await bot.stop();
      await pool.end();
      await database.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await synapse.close();
    },
  };
  return world;
}
