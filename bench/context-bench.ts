/**
 * Context quality and token cost of the agent on the planted-fault scenarios, offline: each scenario's
 * script plays the model, a real Prometheus holds the planted metrics, the Loki fake the logs. Prints a
 * table per scenario (tokens as the scripted server estimates them, a quarter of the characters, and as
 * js-tiktoken's cl100k counts the same requests), then tool-definition costs, and ends with one line:
 * `context recall R/N, pack-only recall P/K, median tokens T, median first request F, median investigation I, compaction C×`.
 *
 *   npm run bench:context -- [--transport in-process|http|both] [--scenarios dir]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { getEncoding } from 'js-tiktoken';
import { formatScenarioReport } from '../src/eval/scenario-report.js';
import { runScenarioSuite } from '../src/eval/scenario-suite.js';
import type { ToolTransport } from '../src/eval/run-scenario.js';
import { toolDefinitionCosts } from '../src/eval/tool-definition-costs.js';

const { values } = parseArgs({ options: { transport: { type: 'string', default: 'in-process' }, scenarios: { type: 'string' } } });
const transports: ToolTransport[] = values.transport === 'both' ? ['in-process', 'http'] : [values.transport as ToolTransport];
if (!transports.every((t) => t === 'in-process' || t === 'http')) {
  console.error('--transport must be in-process, http or both');
  process.exit(2);
}

const encoding = getEncoding('cl100k_base');
const countTokens = (text: string) => encoding.encode(text, 'all').length;
const started = Date.now();
const results = await runScenarioSuite({ transports, directory: values.scenarios });
const costs = await toolDefinitionCosts();
console.log(`machine: ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; model: scripted`);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log('');
console.log('tool definitions offered on every model call (chars/4 estimate, cl100k):');
for (const cost of costs) console.log(`  ${cost.label}: ${cost.tools} tools, ${Math.ceil(cost.chars / 4)} / ${countTokens(cost.text)} tokens`);
console.log('');
console.log(formatScenarioReport(results, { countTokens }));
process.exit(0);
