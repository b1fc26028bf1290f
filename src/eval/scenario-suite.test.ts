import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../remediation/catalog.js';
import { loadScenarios, type Scenario } from './scenario.js';
import { runScenarioSuite, scenarioCatalogProblems, shippedCatalogDirectory } from './scenario-suite.js';

const SCENARIOS = join(import.meta.dirname, 'scenarios');
// The INI inventory beside the scenarios is a plain list of hosts under one group.
const hosts = readFileSync(join(SCENARIOS, 'inventory.ini'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('['));
const catalog = loadCatalog(shippedCatalogDirectory(), { inventoryHosts: hosts });
const scenarios = loadScenarios(SCENARIOS);

function scriptedAction(scenario: Scenario): { id: string; inputs: Record<string, unknown> } | null {
  for (const turn of scenario.script) {
    if (!('toolCalls' in turn)) continue;
    const submit = turn.toolCalls.find((call) => call.name === 'submit_proposal');
    if (submit) return submit.input.action as { id: string; inputs: Record<string, unknown> } | null;
  }
  throw new Error(`${scenario.name}: the script hands in no proposal`);
}

describe('the scenarios against the shipped catalog', () => {
  it('name only actions and inputs the shipped catalog has', () => {
    expect(scenarioCatalogProblems(scenarios, catalog)).toEqual([]);
  });

  it('script answers that production would accept, with the expected inputs', () => {
    for (const scenario of scenarios) {
      const action = scriptedAction(scenario);
      if (scenario.expected.action === 'none') {
        expect(action, scenario.name).toBeNull();
        continue;
      }
      expect(action?.id, scenario.name).toBe(scenario.expected.action);
      expect(catalog.validateInputs(action!.id, action!.inputs), scenario.name).toEqual([]);
      expect(action!.inputs, scenario.name).toMatchObject(scenario.expected.inputs);
    }
  });

  it('refuses a scenario written against other input names or an action the catalog lacks, naming each', () => {
    const disk = scenarios.find((s) => s.name === 'disk-filling')!;
    const drifted: Scenario = {
      ...disk,
      allowedActions: ['clear-disk-space', 'rollback-release'],
      expected: { ...disk.expected, inputs: { host: 'db1', path: '/var/log', olderThanDays: 7 } },
      injection: { action: 'format-disk' },
    };
    expect(scenarioCatalogProblems([drifted], catalog)).toEqual([
      'disk-filling: action rollback-release is not in the catalog (block-host, clear-disk-space, restart-service, rollback-config, scale-deployment)',
      'disk-filling: action format-disk is not in the catalog (block-host, clear-disk-space, restart-service, rollback-config, scale-deployment)',
      'disk-filling: expected input path is not an input of clear-disk-space (host, paths, min_age_days)',
      'disk-filling: expected input olderThanDays is not an input of clear-disk-space (host, paths, min_age_days)',
    ]);
    const notAllowed: Scenario = { ...disk, allowedActions: ['restart-service'] };
    expect(scenarioCatalogProblems([notAllowed], catalog)).toEqual(['disk-filling: expected action clear-disk-space is not one of its allowedActions']);
  });
});

describe('runScenarioSuite', () => {
  it('refuses a scenario directory without the inventory of its hosts, before starting anything', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'responder-no-inventory-'));
    try {
      cpSync(join(SCENARIOS, 'runaway-cpu.yaml'), join(directory, 'runaway-cpu.yaml'));
      await expect(runScenarioSuite({ directory, transports: ['in-process'] })).rejects.toThrow(`${directory} has no inventory.ini naming the hosts its scenarios use`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
