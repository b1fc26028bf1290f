import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../src/eval/run-scenario.js';
import { loadScenarios } from '../../src/eval/scenario.js';
import { formatScenarioReport } from '../../src/eval/scenario-report.js';
import { DEFAULT_SCENARIO_DIR, runScenarioSuite } from '../../src/eval/scenario-suite.js';
import { TEST_PROMETHEUS_BINARIES } from '../support/prometheus.js';

const SCENARIOS = join(import.meta.dirname, '..', '..', DEFAULT_SCENARIO_DIR);

const scenarios = loadScenarios(SCENARIOS);
let results: ScenarioResult[] = [];

// One real Prometheus holds every planted fault; each is investigated by the scripted model through
// the real MCP protocol, against the built-in server in-process and over streamable HTTP.
beforeAll(async () => {
  results = await runScenarioSuite({ directory: SCENARIOS, transports: ['in-process', 'http'], binaries: TEST_PROMETHEUS_BINARIES });
  console.log(formatScenarioReport(results));
}, 240_000);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('planted-fault scenarios', () => {
  it('stays within the token targets by design: last request, whole investigation, and the pack alone carries the facts', () => {
    expect(median(results.map((r) => r.tokensShown))).toBeLessThanOrEqual(1760);
    for (const result of results) expect(result.investigationTokens, result.scenario).toBeLessThanOrEqual(3400);
    const packFound = results.reduce((sum, r) => sum + r.packRecall.found.length, 0);
    const keyFacts = results.reduce((sum, r) => sum + r.packRecall.found.length + r.packRecall.missing.length, 0);
    expect(packFound / keyFacts).toBeGreaterThanOrEqual(0.9);
  });

  it('has at least the six faults the agent must handle', () => {
    expect(scenarios.map((s) => s.name).sort()).toEqual(
      expect.arrayContaining(['bad-config-change', 'disk-filling', 'error-spike-after-deploy', 'memory-leak', 'runaway-cpu', 'suspicious-traffic']),
    );
  });

  for (const scenario of scenarios) {
    for (const transport of ['in-process', 'http'] as const) {
      it(`${scenario.name} over ${transport}: the model is shown the key evidence and the expected action passes validation`, () => {
        const result = results.find((r) => r.scenario === scenario.name && r.transport === transport);
        expect(result, 'scenario did not run').toBeDefined();
        expect(result!.recall.missing).toEqual([]);
        expect(result!.investigation.outcome).toBe('proposed');
        expect(result!.chosenAction).toBe(scenario.expected.action);
        expect(result!.actionCorrect).toBe(true);
        // What the tools returned was summarised, not dumped.
        expect(result!.rawBytes).toBeGreaterThan(result!.shownBytes);
        const toolCalls = result!.investigation.transcript.filter((e) => e.kind === 'tool-call');
        expect(toolCalls.every((t) => !t.isError)).toBe(true);
      });
    }
  }
});
