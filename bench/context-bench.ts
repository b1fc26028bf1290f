/**
 * Context quality of the agent on the planted-fault scenarios, offline: each scenario's script plays
 * the model, a real Prometheus holds the planted metrics, the Loki fake the logs. Prints a table per
 * scenario and one summary line: `context recall R/N, median tokens T, compaction C×`.
 *
 *   npm run bench:context -- [--transport in-process|http|both]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { formatScenarioReport } from '../src/eval/scenario-report.js';
import { runScenarioSuite } from '../src/eval/scenario-suite.js';
import type { ToolTransport } from '../src/eval/run-scenario.js';

const { values } = parseArgs({ options: { transport: { type: 'string', default: 'in-process' }, scenarios: { type: 'string' } } });
const transports: ToolTransport[] = values.transport === 'both' ? ['in-process', 'http'] : [values.transport as ToolTransport];
if (!transports.every((t) => t === 'in-process' || t === 'http')) {
  console.error('--transport must be in-process, http or both');
  process.exit(2);
}

const started = Date.now();
const results = await runScenarioSuite({ transports, directory: values.scenarios });
console.log(`machine: ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; model: scripted (tokens estimated at 4 characters each)`);
console.log(formatScenarioReport(results));
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(0);
