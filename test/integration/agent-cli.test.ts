import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredSource, openToolbox } from '../../src/tools/mcp-toolbox.js';
import { startControlledExporter, type ControlledExporter } from '../../src/eval/controlled-exporter.js';
import { freePort } from '../../src/eval/free-port.js';
import { startPrometheus, testPrometheusEnv, type RunningServer } from '../support/prometheus.js';
import { loadScenarios } from '../../src/eval/scenario.js';
import { scenarioTurns } from '../../src/eval/scenario-suite.js';
import { scriptFromTurns, startScriptedLlmServer, type Script, type ScriptedLlmServer } from '../../src/testing/scripted-llm-server.js';
import { REPO } from '../support/responder-harness.js';

const CLI = join(REPO, 'dist/src/cli/main.js');
// The CLI reads RESPONDER_*; one set in the shell running the tests would change what it does.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESPONDER_') && name !== 'DATABASE_URL'));

/** The built CLI as a child; asynchronous, because the scripted model it talks to lives in this process. */
function cli(args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...cleanEnv, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

let exporter: ControlledExporter;
let prometheus: RunningServer;

beforeAll(async () => {
  exporter = await startControlledExporter();
  exporter.set('demo_queue_depth', 42, { queue: 'orders' });
  prometheus = await startPrometheus({ scrapeTargets: [exporter.target], rules: 'groups: []\n' });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
});

describe('responder mcp serve', () => {
  it('serves the built-in tools over stdio to an MCP client', async () => {
    const source = configuredSource({
      name: 'responder-stdio',
      transport: 'stdio',
      command: process.execPath,
      args: [CLI, 'mcp', 'serve', '--transport', 'stdio'],
      env: { ...cleanEnv, RESPONDER_PROMETHEUS__URL: prometheus.url },
      headers: {},
      tools: [],
      timeoutMs: 30_000,
    });
    const toolbox = await openToolbox([source], { resultMaxBytes: 10_000 });
    try {
      expect(toolbox.unavailable).toEqual([]);
      expect(toolbox.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['query_prometheus', 'list_prometheus_metric_names', 'list_alert_rules', 'list_firing_alerts']));
      // No loki.url: no Loki tools.
      expect(toolbox.tools.map((t) => t.name)).not.toContain('query_loki_logs');
      const result = await toolbox.call('query_prometheus', { expr: 'demo_queue_depth', queryType: 'instant', startTime: 'now' });
      expect(result.isError).toBe(false);
      expect(result.text).toContain('queue="orders"');
      expect(result.text).toContain('42');
    } finally {
      await toolbox.close();
    }
  });

  it('serves streamable HTTP with a bearer token and refuses a client without it', async () => {
    const port = await freePort();
    const token = 'mcp-serve-token-0123456789';
    const child = spawn(process.execPath, [CLI, 'mcp', 'serve', '--transport', 'http', '--port', String(port)], {
      env: { ...cleanEnv, RESPONDER_PROMETHEUS__URL: prometheus.url, RESPONDER_MCP__SERVE__BEARER_TOKEN: token },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = /listening at (\S+)/.exec(out);
          if (found) resolve(found[1]!);
        });
        child.on('exit', (code) => reject(new Error(`mcp serve exited with ${code}`)));
      });
      expect(url).toBe(`http://127.0.0.1:${port}/mcp`);
      const base = { name: 'responder-http', transport: 'http' as const, url, args: [], env: {}, headers: {}, tools: ['list_prometheus_metric_names'], timeoutMs: 10_000 };
      const good = await openToolbox([configuredSource({ ...base, bearerToken: token })], { resultMaxBytes: 10_000 });
      expect(good.tools.map((t) => t.name)).toEqual(['list_prometheus_metric_names']);
      expect((await good.call('list_prometheus_metric_names', { regex: 'demo_.*' })).text).toContain('demo_queue_depth');
      await good.close();
      const refused = await openToolbox([configuredSource({ ...base, bearerToken: 'wrong' })], { resultMaxBytes: 10_000 });
      expect(refused.tools).toEqual([]);
      expect(refused.unavailable[0]!.error).toContain('missing or wrong bearer token');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses to start with no backend to serve', async () => {
    const result = await cli(['mcp', 'serve', '--transport', 'stdio']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('neither prometheus.url nor loki.url is configured');
  });
});

describe('responder eval', () => {
  const scenarios = loadScenarios(join(REPO, 'src/eval/scenarios'));
  let llm: ScriptedLlmServer;
  beforeAll(async () => {
    llm = await startScriptedLlmServer();
  });
  afterAll(async () => llm?.close());

  /** Plays each scenario's own turns, chosen by the alert named in the prompt: a model that gets every one right. */
  const knowsEveryScenario: Script = (request, index) => {
    const scenario = scenarios.find((s) => request.messages[0]?.text.includes(`name: ${s.alert.name}\n`));
    return scenario ? scriptFromTurns(scenarioTurns(scenario))(request, index) : { kind: 'text', text: 'unknown scenario' };
  };
  const modelEnv = () => ({ ...testPrometheusEnv(), RESPONDER_AGENT__API_KEY: 'scripted', RESPONDER_AGENT__BASE_URL: llm.anthropicBaseUrl, RESPONDER_AGENT__MODEL: 'scripted-eval' });

  it('says what is missing when no model is configured', async () => {
    const result = await cli(['eval']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('responder eval needs a model: no agent.apiKey for Anthropic');
  });

  it('scores every scenario and exits 0 when every action is right', async () => {
    llm.setScript(knowsEveryScenario);
    const result = await cli(['eval'], modelEnv());
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.stdout).toContain('evaluating anthropic/scripted-eval');
    expect(result.stdout).toContain(`actions correct ${scenarios.length}/${scenarios.length}`);
    expect(result.stdout).toMatch(
      new RegExp(`context recall ${scenarios.length}/${scenarios.length}, pack-only recall \\d+/\\d+, median tokens \\d+, median first request \\d+, median investigation \\d+, compaction [\\d.]+×`),
    );
    expect(result.status).toBe(0);
  });

  it('scores against the shipped catalog, not a remediations/ directory where it is run', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'responder-eval-cwd-'));
    try {
      // A site's own catalog, here one that would not even load, is not what the scenarios are scored against.
      mkdirSync(join(elsewhere, 'remediations'));
      writeFileSync(join(elsewhere, 'remediations', 'restart-service.yaml'), 'id: restart-service\ninputs: { address: { type: string } }\n');
      llm.setScript(knowsEveryScenario);
      const result = await cli(['eval'], modelEnv(), elsewhere);
      expect(result.stderr).not.toMatch(/Error/);
      expect(result.stdout).toContain(`actions correct ${scenarios.length}/${scenarios.length}`);
      expect(result.status).toBe(0);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('marks a wrong action and exits 1', async () => {
    const alwaysScale = scriptFromTurns([
      {
        kind: 'tool-calls',
        calls: [{ name: 'submit_proposal', input: { diagnosis: 'load', evidence: [{ source: 'The alert', summary: 'busy' }], action: { id: 'scale-deployment', inputs: { namespace: 'default', deployment: 'web', replicas: 3 } }, risk: 'low', confidence: 0.5 } }],
      },
    ]);
    llm.setScript(alwaysScale);
    const result = await cli(['eval'], modelEnv());
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('runaway-cpu: WRONG (scale-deployment; proposed)');
    expect(result.stdout).toContain('bad-config-change: WRONG (no action; fallback)');
    expect(result.stdout).toMatch(/actions correct 0\/\d+/);
  });
});

it('prints help for the agent commands', () => {
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  expect(help).toContain('eval');
  expect(help).toContain('mcp');
});
