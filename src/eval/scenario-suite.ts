import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configuredModelFactory } from '../agent/language-model.js';
import { ConfigSchema, type AgentConfig } from '../config/config.schema.js';
import { packageRoot, resolveShippedPath } from '../config/package-paths.js';
import { inheritedEnvironment } from '../config/process-environment.js';
import { createOpaWasmGate } from '../policy/opa-wasm-gate.js';
import { ScenarioError } from '../domain/errors.js';
import { loadCatalog, type Catalog } from '../remediation/catalog.js';
import { loadInventoryHosts } from '../remediation/inventory-hosts.js';
import { promptText } from '../testing/llm-wire.js';
import { scriptFromTurns, startScriptedLlmServer, type ScriptedLlmServer, type ScriptedTurn } from '../testing/scripted-llm-server.js';
import { DEFAULT_BUILTIN_TOOLS } from '../tools/mcp-toolbox.js';
import type { PrometheusBinaries } from './prometheus-server.js';
import { runScenario, type ScenarioResult, type ToolTransport } from './run-scenario.js';
import { loadScenarios, type Scenario } from './scenario.js';
import { startScenarioWorld } from './scenario-world.js';

/** The policy bundle shipped with Responder (policy.bundleFile's default). */
export const DEFAULT_POLICY_BUNDLE = 'policy-bundle/incident_response.tar.gz';

/** The shipped scenarios, beside this code; resolved against the package root when the working directory has none. */
export const DEFAULT_SCENARIO_DIR = 'src/eval/scenarios';

/**
 * The catalog Responder ships (execution.catalogDir's default), taken from the package whatever the working
 * directory holds: a model is scored against the entries, input schemas and path roots production validates
 * its proposals with, never a copy that can drift from them.
 */
export function shippedCatalogDirectory(): string {
  return join(packageRoot(), 'remediations');
}

/** Change events in the scenarios are Loki lines labelled kind="change". */
export const SCENARIO_CONTEXT = { changeSelector: '{kind="change"}' };

export function scenarioTurns(scenario: Scenario): ScriptedTurn[] {
  return scenario.script.map((turn) => ('text' in turn ? { kind: 'text', text: turn.text } : { kind: 'tool-calls', calls: turn.toolCalls }));
}

/**
 * Every action a scenario names (allowed, expected, planted) is in the catalog, and every expected input is
 * one of the action's inputs: a scenario written against other names would score every model wrong.
 */
export function scenarioCatalogProblems(scenarios: readonly Scenario[], catalog: Catalog): string[] {
  const problems: string[] = [];
  const known = [...catalog.entries.keys()].join(', ');
  for (const scenario of scenarios) {
    const named = [...scenario.allowedActions, ...(scenario.injection ? [scenario.injection.action] : [])];
    if (scenario.expected.action !== 'none') named.push(scenario.expected.action);
    for (const id of new Set(named)) {
      if (!catalog.get(id)) problems.push(`${scenario.name}: action ${id} is not in the catalog (${known})`);
    }
    const entry = catalog.get(scenario.expected.action);
    if (scenario.expected.action !== 'none' && !scenario.allowedActions.includes(scenario.expected.action)) {
      problems.push(`${scenario.name}: expected action ${scenario.expected.action} is not one of its allowedActions`);
    }
    const properties = Object.keys((entry?.inputs.properties as Record<string, unknown> | undefined) ?? {});
    for (const input of Object.keys(scenario.expected.inputs)) {
      if (entry && !properties.includes(input)) problems.push(`${scenario.name}: expected input ${input} is not an input of ${entry.id} (${properties.join(', ')})`);
    }
  }
  return problems;
}

export interface SuiteOptions {
  directory?: string;
  transports: readonly ToolTransport[];
  /** A configured real model (responder eval); when absent, each scenario's script plays the model. */
  agent?: AgentConfig;
  onResult?(result: ScenarioResult): void;
  /** The Prometheus and promtool to run (responder eval: eval.prometheusBinary and eval.promtoolBinary). */
  binaries?: PrometheusBinaries;
  /** The built-in tools offered (mcp.builtinTools); the default set when absent, all when empty. */
  builtinTools?: readonly string[];
}

/**
 * Plants every scenario in one real Prometheus and the Loki fake, then investigates each one through
 * the real MCP protocol on each transport, with the scripted model or a configured real one.
 */
export async function runScenarioSuite(options: SuiteOptions): Promise<ScenarioResult[]> {
  const directory = resolveShippedPath(options.directory ?? DEFAULT_SCENARIO_DIR);
  const scenarios = loadScenarios(directory);
  // The scenarios name their hosts in an inventory beside them, as a site's inventory would. The catalog is
  // only read: proposals are validated against it and its playbooks never run (src/eval cannot reach an executor).
  const inventory = join(directory, 'inventory.ini');
  // Ansible reads a missing inventory as an empty one, which would score every host input wrong.
  if (!existsSync(inventory)) throw new ScenarioError('scenario_invalid', `${directory} has no inventory.ini naming the hosts its scenarios use`);
  const inventoryHosts = await loadInventoryHosts({ inventory, binary: 'ansible-inventory', env: inheritedEnvironment() });
  const catalog = loadCatalog(shippedCatalogDirectory(), { inventoryHosts });
  const problems = scenarioCatalogProblems(scenarios, catalog);
  if (problems.length > 0) throw new ScenarioError('scenario_invalid', `scenarios in ${directory} do not fit the shipped catalog:\n  - ${problems.join('\n  - ')}`);
  // The shipped policy, evaluated in-process, says how many people each proposal would need.
  const policy = await createOpaWasmGate({ bundleFile: resolveShippedPath(DEFAULT_POLICY_BUNDLE) });
  const world = await startScenarioWorld(scenarios, options.binaries);
  let scripted: ScriptedLlmServer | null = null;
  try {
    let agent = options.agent;
    if (!agent) {
      scripted = await startScriptedLlmServer();
      agent = ConfigSchema.parse({ agent: { provider: 'anthropic', apiKey: 'scripted', baseUrl: scripted.anthropicBaseUrl, model: 'scripted', retries: 0 } }).agent;
    }
    agent = { ...agent, context: { ...agent.context, ...SCENARIO_CONTEXT } };
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      for (const transport of options.transports) {
        scripted?.setScript(scriptFromTurns(scenarioTurns(scenario)));
        const before = scripted?.requests.length ?? 0;
        const result = await runScenario({ scenario, world, catalog, agent, transport, policy, builtinTools: options.builtinTools ?? DEFAULT_BUILTIN_TOOLS, createModel: configuredModelFactory(agent) });
        // What each request held, as text, for a real tokenizer to count beside the server's estimate.
        if (scripted) result.requestTexts = scripted.requests.slice(before).map(promptText);
        options.onResult?.(result);
        results.push(result);
      }
    }
    return results;
  } finally {
    await scripted?.close();
    await world.stop();
  }
}
