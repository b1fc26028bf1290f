import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { startControlledExporter, type ControlledExporter } from '../../src/eval/controlled-exporter.js';
import { startPidfileService, type PidfileService } from '../../src/cli/pidfile-service.js';
import { startPrometheus, type RunningServer } from '../support/prometheus.js';
import { scriptFromTurns, startScriptedLlmServer, type ScriptedLlmServer, type ScriptedTurn } from '../../src/testing/scripted-llm-server.js';
import { alertmanagerPayload, type TestAlert } from '../support/alert-payloads.js';
import { startTestResponder, type TestResponder } from '../support/responder-harness.js';

let scratch: string;
let service: PidfileService;
let llm: ScriptedLlmServer;
let responder: TestResponder;
let exporter: ControlledExporter;
let prometheus: RunningServer;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'responder-agent-'));
  service = startPidfileService(scratch);
  llm = await startScriptedLlmServer();
  exporter = await startControlledExporter();
  exporter.set('demo_service_busy_workers', 17, { service: 'demo-service' });
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], rules: 'groups: []\n' });
  responder = await startTestResponder({
    prometheus: { url: prometheus.url },
    agent: { provider: 'anthropic', apiKey: 'scripted-key', baseUrl: llm.anthropicBaseUrl, model: 'scripted-claude', retries: 0, maxSteps: 4 },
    routes: [
      { name: 'look-only', matchers: ['look="only"'], mode: 'diagnose-only' },
      { name: 'agentic', matchers: ['agentic="true"'], mode: 'approve' },
    ],
  });
}, 120_000);

afterAll(async () => {
  await responder?.cleanup();
  await llm?.close();
  await prometheus?.stop();
  await exporter?.stop();
  service?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function alert(labels: Record<string, string> = {}): TestAlert {
  return {
    labels: { alertname: 'ServiceWedged', agentic: 'true', severity: 'warning', service: 'demo-service', host: 'localhost', fp: String(Math.random()), ...labels },
    annotations: { summary: 'demo-service is wedged', remediation: 'restart-process', pidfile: service.pidfile, start_command: service.command },
  };
}

async function open(testAlert: TestAlert): Promise<string> {
  const response = await responder.post('/hooks/alertmanager/test-intake-key', alertmanagerPayload([testAlert]));
  expect(response.status).toBe(202);
  return ((await response.json()) as { incidents: { id: string }[] }).incidents[0]!.id;
}

const past = (states: string[]) => (r: IncidentRecord) => states.includes(r.state);

function proposeRestart(): ScriptedTurn {
  return {
    kind: 'tool-calls',
    calls: [
      {
        name: 'submit_proposal',
        input: {
          diagnosis: 'demo-service stopped answering; its process is wedged.',
          evidence: [{ source: 'The alert', summary: 'ServiceWedged on localhost' }],
          action: { id: 'restart-process', inputs: { service: 'demo-service', host: 'localhost', pidfile: service.pidfile, command: service.command } },
          risk: 'low',
          confidence: 0.85,
        },
      },
    ],
  };
}

describe('the workflow with an LLM agent', () => {
  it("stores the agent's proposal and transcript, audits it and counts its tokens", async () => {
    llm.setScript(scriptFromTurns([proposeRestart()]));
    const id = await open(alert());
    const record = await responder.waitFor(id, past(['awaiting_approval', 'failed', 'denied', 'diagnosed']));
    expect(record.state).toBe('awaiting_approval');
    const proposal = record.proposal as { source: string; diagnosis: string; confidence: number };
    expect(proposal).toMatchObject({ source: 'agent', diagnosis: 'demo-service stopped answering; its process is wedged.', confidence: 0.85 });
    expect(record.investigation).toMatchObject({ outcome: 'proposed', provider: 'anthropic', model: 'scripted-claude', modelCalls: 1 });
    expect(record.investigation!.transcript[0]).toMatchObject({ kind: 'model-call', finishReason: 'tool-calls' });
    expect(record.investigation!.context[0]!.title).toBe('The alert');
    expect(record.investigation!.tools).toContain('query_prometheus');
    // Label and metadata tools only when mcp.builtinTools asks for them.
    expect(record.investigation!.withheldTools).toContainEqual({ server: 'responder', tool: 'list_prometheus_label_names', reason: 'not on the allow-list' });
    expect(record.investigation!.unavailableServers).toEqual([]);
    expect(record.audit.map((e) => e.kind)).toContain('agent.investigation');
    expect(record.runs.map((r) => r.kind)).toEqual(['dry-run']);

    const metrics = await (await responder.get('/metrics')).text();
    const input = /responder_llm_tokens_total\{provider="anthropic",model="scripted-claude",direction="input"\} (\d+)/.exec(metrics);
    expect(Number(input?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/responder_investigations_total\{outcome="proposed"\} [1-9]/);
    expect(metrics).toMatch(/responder_investigation_cost_usd_count [1-9]/);
  });

  it('gives the model the built-in tools over the configured Prometheus', async () => {
    llm.setScript(scriptFromTurns([{ kind: 'tool-calls', calls: [{ name: 'query_prometheus', input: { expr: 'demo_service_busy_workers', queryType: 'instant', startTime: 'now' } }] }, proposeRestart()]));
    const id = await open(alert());
    const record = await responder.waitFor(id, past(['awaiting_approval', 'failed', 'denied', 'diagnosed']));
    expect(record.state).toBe('awaiting_approval');
    const call = record.investigation!.transcript.find((e) => e.kind === 'tool-call');
    expect(call).toMatchObject({ tool: 'query_prometheus', server: 'responder', isError: false });
    expect(call?.kind === 'tool-call' && call.result).toContain('17');
    expect(record.investigation!.context.map((s) => s.title)).toContain('Other alerts on the same instance or job');
    // The second call repeated the first one's tools and system prompt, which the provider read from its cache.
    expect(record.investigation!.usage.cachedInputTokens).toBeGreaterThan(0);
    const metrics = await (await responder.get('/metrics')).text();
    const cached = /responder_llm_cached_input_tokens_total\{provider="anthropic",model="scripted-claude"\} (\d+)/.exec(metrics);
    expect(Number(cached?.[1])).toBeGreaterThanOrEqual(record.investigation!.usage.cachedInputTokens);
  });

  it('falls back to the runbook proposal when the provider fails, and says so', async () => {
    llm.setScript(() => ({ kind: 'error', status: 500, message: 'provider exploded' }));
    const id = await open(alert());
    const record = await responder.waitFor(id, past(['awaiting_approval', 'failed', 'denied', 'diagnosed']));
    expect(record.state).toBe('awaiting_approval');
    const proposal = record.proposal as { source: string; diagnosis: string; action: { id: string } };
    expect(proposal.source).toBe('runbook');
    expect(proposal.action.id).toBe('restart-process');
    expect(proposal.diagnosis).toMatch(/^The agent could not finish \(model provider failed: .*provider exploded.*\); runbook proposal instead\./);
    expect(record.investigation).toMatchObject({ outcome: 'fallback' });
  });

  it('stores a model answer carrying a NUL character (jsonb refuses U+0000) instead of failing the incident', async () => {
    const turn = proposeRestart();
    if (turn.kind !== 'tool-calls') throw new Error('unexpected turn');
    const input = turn.calls[0]!.input as { diagnosis: string };
    input.diagnosis = 'binary noise \u0000 in the log';
    llm.setScript(scriptFromTurns([{ kind: 'text', text: 'thinking \u0000 aloud' }, turn]));
    const id = await open(alert());
    const record = await responder.waitFor(id, past(['awaiting_approval', 'failed', 'denied', 'diagnosed']));
    expect(record.state).toBe('awaiting_approval');
    expect((record.proposal as { diagnosis: string }).diagnosis).toBe('binary noise \uFFFD in the log');
    expect(record.investigation!.transcript.find((e) => e.kind === 'model-call')).toMatchObject({ text: 'thinking \uFFFD aloud' });
  });

  it('ends a diagnose-only incident at the agent diagnosis', async () => {
    llm.setScript(scriptFromTurns([proposeRestart()]));
    const id = await open(alert({ look: 'only' }));
    const record = await responder.waitFor(id, past(['diagnosed', 'failed']));
    expect(record.state).toBe('diagnosed');
    expect((record.proposal as { source: string }).source).toBe('agent');
    expect(record.runs).toEqual([]);
  });
});
