import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AgentConfig, Config } from '../config/config.schema.js';
import type { Catalog } from '../remediation/catalog.js';
import type { Incident } from '../domain/incident-record.js';
import type { LokiApi } from '../tools/loki-api.js';
import { configuredSource, inProcessSource, openToolbox, type ToolSource } from '../tools/mcp-toolbox.js';
import type { PrometheusApi } from '../tools/prometheus-api.js';
import { allowedCatalogActions } from './agent-proposal.js';
import { buildContextPack } from './context-pack.js';
import { budgetFrom, investigate } from './investigate.js';
import type { Investigation } from '../domain/investigation.js';
import { configuredModelFactory, missingModelReason } from './language-model.js';

export interface Investigator {
  /** provider/model, for logs. */
  describe: string;
  run(incident: Incident, routeActions: readonly string[]): Promise<Investigation>;
}

export interface InvestigatorDeps {
  agent: AgentConfig;
  mcp: Config['mcp'];
  catalog: Catalog;
  prometheus: PrometheusApi | null;
  loki: LokiApi | null;
  /** Responder's own MCP server, connected in-process; null when mcp.builtin is off. */
  createBuiltinServer: (() => McpServer) | null;
  /** The environment stdio MCP servers inherit (src/config's inheritedEnvironment()). */
  inheritedEnv: Record<string, string>;
  onInvestigation?(investigation: Investigation): void;
}

/** Null when no model is configured: the workflow then keeps the no-LLM path. */
export function createInvestigator(deps: InvestigatorDeps): Investigator | null {
  const { agent } = deps;
  if (missingModelReason(agent) !== null) return null;
  const sources: ToolSource[] = [];
  if (deps.createBuiltinServer) sources.push(inProcessSource('responder', deps.createBuiltinServer, { allow: deps.mcp.builtinTools }));
  sources.push(...deps.mcp.servers.map((server) => configuredSource(server, { inheritedEnv: deps.inheritedEnv })));
  const createModel = configuredModelFactory(agent);
  return {
    describe: `${agent.provider}/${agent.model}`,
    async run(incident, routeActions) {
      const context = await buildContextPack(incident, { prometheus: deps.prometheus, loki: deps.loki, settings: agent.context });
      // Connected per investigation: a server that was down for the last incident may be back for this one.
      const toolbox = await openToolbox(sources, { resultMaxBytes: agent.toolResultMaxBytes });
      try {
        const investigation = await investigate({
          incident,
          context,
          catalog: deps.catalog,
          allowedActions: allowedCatalogActions(deps.catalog, routeActions),
          createModel,
          toolbox,
          budget: budgetFrom(agent),
          pricing: agent.pricing,
        });
        deps.onInvestigation?.(investigation);
        return investigation;
      } finally {
        await toolbox.close();
      }
    },
  };
}

