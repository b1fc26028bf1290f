import { createBuiltinMcpServer } from '../tools/builtin-mcp-server.js';
import { createLokiApi } from '../tools/loki-api.js';
import { DEFAULT_BUILTIN_TOOLS, inProcessSource, openToolbox, type ToolSource } from '../tools/mcp-toolbox.js';
import { createPrometheusApi } from '../tools/prometheus-api.js';
import { createMcpGrafanaFixture } from './mcp-grafana-fixture.js';

export interface ToolDefinitionCost {
  label: string;
  tools: number;
  /** Names, descriptions and input schemas as the model is sent them, joined: what the token estimate counts. */
  text: string;
  chars: number;
}

/** A site pointing at mcp-grafana would offer the model its Prometheus and Loki tools and little else. */
export const MCP_GRAFANA_EXAMPLE_ALLOW_LIST = ['query_prometheus', 'query_loki_logs'];

async function cost(label: string, source: ToolSource): Promise<ToolDefinitionCost> {
  const toolbox = await openToolbox([source], { resultMaxBytes: 1000 });
  try {
    if (toolbox.unavailable.length > 0) throw new Error(`${label}: ${toolbox.unavailable.map((u) => u.error).join('; ')}`);
    const text = toolbox.tools
      .map((t) => {
        const { $schema: _ignored, ...schema } = t.inputSchema;
        return t.name + t.description + JSON.stringify(schema);
      })
      .join('');
    return { label, tools: toolbox.tools.length, text, chars: text.length };
  } finally {
    await toolbox.close();
  }
}

/**
 * What the tool definitions alone cost on every model call: the built-in server's default set and all
 * of it, and grafana/mcp-grafana's default tool list offered whole (its read-only tools) or through an
 * allow-list (`mcp.servers[].tools`). Nothing is called, so no backend is needed.
 */
export async function toolDefinitionCosts(): Promise<ToolDefinitionCost[]> {
  const nowhere = { url: 'http://127.0.0.1:9', timeoutMs: 100 };
  const builtin = () => createBuiltinMcpServer({ prometheus: createPrometheusApi(nowhere), loki: createLokiApi(nowhere), version: 'bench' });
  return [
    await cost(`built-in, default set (${DEFAULT_BUILTIN_TOOLS.join(', ')})`, inProcessSource('responder', builtin, { allow: DEFAULT_BUILTIN_TOOLS })),
    await cost('built-in, all tools (mcp.builtinTools: [])', inProcessSource('responder', builtin)),
    await cost('mcp-grafana, default tool list (read-only tools reach the model)', inProcessSource('grafana', createMcpGrafanaFixture)),
    await cost(`mcp-grafana with tools: [${MCP_GRAFANA_EXAMPLE_ALLOW_LIST.join(', ')}]`, inProcessSource('grafana', createMcpGrafanaFixture, { allow: MCP_GRAFANA_EXAMPLE_ALLOW_LIST })),
  ];
}
