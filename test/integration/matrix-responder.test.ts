import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { freePort } from '../../src/eval/free-port.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { waitFor } from '../support/matrix-world.js';
import { startTestResponder, type TestResponder } from '../support/responder-harness.js';
import { matrixPerson, startSynapse, type MatrixEvent, type MatrixPerson, type RunningSynapse } from '../support/synapse.js';

/** The whole service with the Matrix bot and ntfy configured: an alert in, a card in a real Synapse room, a phone push out. */
describe('Responder with Matrix and ntfy', () => {
  let synapse: RunningSynapse;
  let alice: MatrixPerson;
  let botId: string;
  let oncall: MatrixPerson;
  let roomId: string;
  let responder: TestResponder;
  let service: PidfileService;
  let scratch: string;
  let ntfy: Server;
  let escalationHook: Server;
  const pushes: Record<string, unknown>[] = [];
  const escalations: Record<string, unknown>[] = [];

  const receiver = (into: Record<string, unknown>[]) =>
    createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        into.push(JSON.parse(body) as Record<string, unknown>);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'responder-matrix-e2e-'));
    service = startPidfileService(scratch);
    synapse = await startSynapse();
    const bot = await synapse.register('responder');
    botId = bot.userId;
    alice = matrixPerson(synapse.url, await synapse.register('alice'));
    oncall = matrixPerson(synapse.url, await synapse.register('oncall'));
    roomId = await alice.createRoom([bot.userId, oncall.userId]);
    await oncall.join(roomId);
    const ntfyPort = await freePort();
    const hookPort = await freePort();
    ntfy = receiver(pushes);
    escalationHook = receiver(escalations);
    await new Promise<void>((done) => ntfy.listen(ntfyPort, '127.0.0.1', done));
    await new Promise<void>((done) => escalationHook.listen(hookPort, '127.0.0.1', done));
    responder = await startTestResponder({
      server: { port: 0, publicUrl: 'https://responder.example.org' },
      routes: [{ name: 'agentic', matchers: ['agentic="true"'], mode: 'approve', escalation: { reaskMinutes: 0.1 } }],
      approval: { timeoutMinutes: 0.15, escalationWebhookUrl: `http://127.0.0.1:${hookPort}/escalate` },
      matrix: {
        homeserverUrl: synapse.url,
        accessToken: bot.accessToken,
        roomId,
        users: [{ matrixId: alice.userId, name: 'alice', role: 'approver' }],
        onCall: [oncall.userId],
        maxBackoffSeconds: 1,
      },
      notify: { ntfy: [{ name: 'phone', url: `http://127.0.0.1:${ntfyPort}/oncall`, priority: 2, events: ['approval-requested', 'approval-expired', 'result'] }], maxBackoffSeconds: 1 },
    });
  });
  afterAll(async () => {
    await responder?.cleanup();
    await synapse?.close();
    ntfy?.close();
    escalationHook?.close();
    service?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function alert(): TestAlert {
    return {
      labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost' },
      annotations: { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
    };
  }
  async function open(): Promise<string> {
    const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([alert()]));
    expect(response.status).toBe(202);
    return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
  }
  const cardsOf = async (requestIds: string[]) => {
    const events = await alice.messages(roomId, 300);
    return requestIds.map((id) => events.find((e) => e.sender === botId && !e.content['m.relates_to'] && e.content.body?.includes(`request ${id.slice(0, 8)} (round`)));
  };
  const threadOf = async (card: MatrixEvent) =>
    (await alice.messages(roomId, 300)).filter((e) => e.content['m.relates_to']?.rel_type === 'm.thread' && e.content['m.relates_to']?.event_id === card.event_id);
  const ended = (r: IncidentRecord) => !['received', 'investigating', 'proposed', 'awaiting_approval', 'approved', 'executing', 'verifying'].includes(r.state);

  it('an alert becomes a card; a ✅ from the room runs the action, and the thread tells what happened', async () => {
    const id = await open();
    const waiting = await responder.waitFor(id, (r) => r.state === 'awaiting_approval');
    const request = waiting.approvalRequests.at(-1)!;
    const [card] = await waitFor('the card', async () => ((await cardsOf([request.id]))[0] ? await cardsOf([request.id]) : null));
    expect(card!.content.body).toContain(`Incident page: https://responder.example.org/incidents/${id}`);
    await alice.react(roomId, card!.event_id, '✅');
    const record = await responder.waitFor(id, ended);
    expect(record.approvalRequests.at(-1)!.decisions).toEqual([expect.objectContaining({ approver: 'alice', channel: 'matrix' })]);
    expect(record.runs.map((r) => r.kind)).toContain('execute');
    const lines = await waitFor('the result in the thread', async () => {
      const thread = (await threadOf(card!)).map((e) => e.content.body ?? '');
      return thread.some((l) => /Verified|Ran, not verified|Failed/.test(l)) ? thread : null;
    });
    expect(lines.join('\n')).toContain('Approved by alice');
    expect(lines.join('\n')).toContain('Executing the approved action');
    await waitFor('the result push', async () => pushes.some((p) => (p.tags as string[])[0] === 'result' && String(p.click).endsWith(id)));
    const metrics = await (await responder.get('/metrics')).text();
    expect(metrics).toMatch(/responder_outbox_lag_seconds\{channel="matrix"\} \d/);
    expect(metrics).toMatch(/responder_outbox_pending_messages\{channel="ntfy:phone"\} \d/);
  });

  it('nobody answers: it asks once more with the longer deadline, then expires, mentions the on-call and pushes at priority 5', async () => {
    const id = await open();
    const record = await responder.waitFor(id, (r) => r.audit.some((e) => e.kind === 'approval.escalated'), 90_000);
    expect(record.state).toBe('expired');
    expect(record.approvalRequests.map((r) => r.state)).toEqual(['expired', 'expired']);
    const [first, second] = record.approvalRequests;
    // 0.15 min, then the route's 0.1 min.
    expect(Date.parse(first!.deadline) - Date.parse(first!.createdAt)).toBeGreaterThan(8_000);
    expect(Date.parse(second!.deadline) - Date.parse(second!.createdAt)).toBeLessThan(7_000);
    expect(escalations).toEqual([expect.objectContaining({ kind: 'approval-expired', incidentId: id })]);
    const cards = await waitFor('both cards', async () => {
      const found = await cardsOf([first!.id, second!.id]);
      return found.every(Boolean) ? (found as MatrixEvent[]) : null;
    });
    const mention = await waitFor('the on-call mention', async () => (await threadOf(cards[1]!)).find((e) => e.content.body?.includes('Nobody decided')));
    expect(mention.content['m.mentions']).toEqual({ user_ids: [oncall.userId] });
    await waitFor('the pushes', async () => pushes.filter((p) => String(p.click).endsWith(id)).length >= 3);
    const mine = pushes.filter((p) => String(p.click).endsWith(id));
    expect(mine.map((p) => [(p.tags as string[])[0], p.priority])).toEqual([
      ['approval-requested', 4],
      ['approval-requested', 4],
      ['approval-expired', 5],
    ]);
  });
});
