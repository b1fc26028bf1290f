import { rmSync } from 'node:fs';
import pino from 'pino';
import { createApprovalAnnouncer } from '../../src/approval/approval-announcer.js';
import type { ApprovalChannel } from '../../src/approval/approval-channel.js';
import { describeApprovalChannelContract, type ApprovalWorld, type ChannelUnderTest } from '../../src/approval/approval-channel.contract.js';
import { createDecisionRateLimiter } from '../../src/approval/decision-rate-limiter.js';
import { createMemoryApprovalChannel } from '../../src/approval/memory-approval-channel.js';
import { createRestApprovalChannel } from '../../src/approval/rest-approval-channel.js';
import { submitDecision, type DecisionDeps } from '../../src/approval/submit-decision.js';
import { ConfigSchema } from '../../src/config/config.schema.js';
import { createPool } from '../../src/database/database.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrations.js';
import type { ApprovalRequest } from '../../src/domain/approval.js';
import { createApp } from '../../src/http/app.js';
import { createIdentityResolver } from '../../src/http/identity.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createApprovalStore } from '../../src/store/approvals.js';
import { createIncidentRecordReader } from '../../src/store/incident-records.js';
import { createIncidentStore } from '../../src/store/incidents.js';
import { storeFiringIncident } from '../support/stored-incident.js';
import { freePort } from '../../src/eval/free-port.js';
import { makeDataDir } from '../support/responder-harness.js';

const TOKENS = { alice: 'contract-alice-token-0123', bob: 'contract-bob-token-01234', vera: 'contract-vera-token-0123' };
const log = pino({ level: 'silent' });

/** Real PostgreSQL, the real stores and submitDecision, with `channel` as the only channel told about requests. */
async function approvalCore(channel: ApprovalChannel) {
  const dataDir = makeDataDir();
  const database = await startEmbeddedDatabase({ dataDir, port: await freePort() });
  const pool = createPool(database.url, 5);
  await migrate(pool);
  const incidents = createIncidentStore(pool);
  const approvals = createApprovalStore(pool);
  const announcer = createApprovalAnnouncer([channel], incidents, log);
  const deps: DecisionDeps = {
    approvals,
    incidents,
    checkInputs: () => [],
    rateLimiter: createDecisionRateLimiter(1000),
    notifyWorkflow: async () => {},
    announce: (request) => void announcer.updated(request),
  };
  const world: ApprovalWorld = {
    async openRequest(approvalsRequired) {
      const incidentId = await storeFiringIncident(pool, { name: 'ContractAlert', receiver: 'contract' });
      await incidents.transition(incidentId, { from: ['received'], to: 'awaiting_approval', actor: 'contract' });
      const request = await approvals.openRequest({
        incidentId,
        round: 1,
        actionId: 'restart-service',
        inputs: { service: 'nginx', host: 'web1' },
        risk: 'medium',
        proposalHash: 'sha256:contract',
        approvalsRequired,
        policyReasons: ['approve mode: every change waits for a person'],
        deadline: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await announcer.posted(request);
      return request;
    },
    repost: (request) => announcer.posted(request),
    async expire(request) {
      const ended = await approvals.finish(request.id, 'expired', 'contract deadline');
      await announcer.withdrawn(ended);
      return ended;
    },
    current: async (request) => (await approvals.get(request.id))!,
    async close() {
      await pool.end();
      await database.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return { world, deps, incidents, records: createIncidentRecordReader(pool, incidents) };
}

describeApprovalChannelContract('in-memory', async () => {
  const channel = createMemoryApprovalChannel('web');
  const { world, deps } = await approvalCore(channel);
  const subject: ChannelUnderTest = {
    channel,
    async decide(person, request, decision) {
      const outcome = await submitDecision(deps, { incidentId: request.incidentId, identity: person, channel: 'web', input: { ...decision, requestId: request.id } });
      return outcome.kind === 'recorded' ? { accepted: true } : { accepted: false, code: outcome.code };
    },
    async shown(request: ApprovalRequest) {
      const notices = channel.seen.filter((n) => n.requestId === request.id);
      const last = notices.at(-1);
      return last ? { state: last.state, decisions: last.decisions, posts: notices.filter((n) => n.kind === 'post').length } : null;
    },
  };
  return { world, subject };
});

describeApprovalChannelContract('REST resume API', async () => {
  const channel = createRestApprovalChannel();
  const { world, deps, records } = await approvalCore(channel);
  const config = ConfigSchema.parse({ auth: { tokens: [`alice:${TOKENS.alice}`, `bob:${TOKENS.bob}`, `vera:${TOKENS.vera}:viewer`] } });
  const app = createApp({
    intake: {
      notifications: { record: async () => [] },
      routes: [],
      intake: { ...config.intake, key: 'unused-intake-key' },
      bodyLimitBytes: 1024,
      metrics: createMetrics(async () => ({})),
      adoptRoute: async () => false,
      startWorkflow: async () => {},
      notifyClosed: async () => {},
      onWorkflowStartError: () => {},
    },
    incidents: {
      incidents: { list: async () => [], getRecord: (id) => records.get(id) },
      access: { identities: createIdentityResolver({ tokens: config.auth.tokens, forwardAuth: config.auth.forwardAuth }), anonymousRead: false },
      decide: (submission) => submitDecision(deps, submission),
      bodyLimitBytes: 65536,
    },
    metrics: createMetrics(async () => ({})),
    log,
    ready: async () => ({}),
  });
  const subject: ChannelUnderTest = {
    channel,
    async decide(person, request, decision) {
      const response = await app.request(`/api/v1/incidents/${request.incidentId}/resume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS[person.name as keyof typeof TOKENS]}` },
        body: JSON.stringify({ ...decision, requestId: request.id }),
      });
      if (response.status === 202) return { accepted: true };
      return { accepted: false, code: ((await response.json()) as { code: string }).code };
    },
    async shown(request) {
      const response = await app.request(`/api/v1/incidents/${request.incidentId}`, { headers: { authorization: `Bearer ${TOKENS.vera}` } });
      const record = (await response.json()) as { approvalRequests: ApprovalRequest[] };
      const found = record.approvalRequests.filter((r) => r.id === request.id);
      return found[0] ? { state: found[0].state, decisions: found[0].decisions.map((d) => ({ approver: d.approver, channel: d.channel })), posts: found.length } : null;
    },
  };
  return { world, subject };
});
