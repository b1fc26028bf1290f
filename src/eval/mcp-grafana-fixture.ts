import { readFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { resolveShippedPath } from '../config/package-paths.js';

/**
 * grafana/mcp-grafana's default tool set (the README's tool table without the categories it leaves off
 * by default), with each tool's real name, argument names, types, required flags and read-only
 * annotation, read from its Go sources. Its descriptions are not copied: each is neutral filler of the
 * same length, so the fixture costs what the real server's tool list costs a model, within tokenizer noise.
 */
export const MCP_GRAFANA_TOOLS_FILE = 'src/eval/fixtures/mcp-grafana-tools.json';

const FixtureSchema = z.array(
  z.object({
    name: z.string(),
    category: z.string(),
    readOnly: z.boolean(),
    descriptionChars: z.number().int().nonnegative(),
    arguments: z.array(z.object({ name: z.string(), type: z.enum(['string', 'integer', 'number', 'boolean', 'array', 'object']), required: z.boolean(), descriptionChars: z.number().int().nonnegative() })),
  }),
);

const FILLER = 'Returns the matching items from the configured data source for the given parameters and time range. ';

function filler(chars: number): string {
  return FILLER.repeat(Math.ceil(chars / FILLER.length)).slice(0, chars).trimEnd();
}

export function mcpGrafanaTools(): Tool[] {
  const fixture = FixtureSchema.parse(JSON.parse(readFileSync(resolveShippedPath(MCP_GRAFANA_TOOLS_FILE), 'utf8')));
  return fixture.map((tool) => ({
    name: tool.name,
    description: filler(tool.descriptionChars),
    inputSchema: {
      type: 'object',
      properties: Object.fromEntries(
        tool.arguments.map((a) => [a.name, { type: a.type, ...(a.type === 'array' ? { items: {} } : {}), ...(a.descriptionChars > 0 ? { description: filler(a.descriptionChars) } : {}) }]),
      ),
      required: tool.arguments.filter((a) => a.required).map((a) => a.name),
    },
    annotations: { readOnlyHint: tool.readOnly },
  }));
}

/** An MCP server offering that tool list; every call answers that it is a fixture. */
export function createMcpGrafanaFixture(): Server {
  const server = new Server({ name: 'mcp-grafana-fixture', version: '0' }, { capabilities: { tools: {} } });
  const tools = mcpGrafanaTools();
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (request) => ({ isError: true, content: [{ type: 'text', text: `${request.params.name}: mcp-grafana fixture, not connected to Grafana` }] }));
  return server;
}
