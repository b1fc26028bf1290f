#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import pino from 'pino';
import { sealAllAuditEvents, verifyAuditChain } from '../audit/audit-log.js';
import { checkConfig, loadConfig } from '../config/load-config.js';
import { resolveShippedPath, resolveTool } from '../config/package-paths.js';
import { POLICY_INPUT_VERSION, PolicyInputSchema } from '../domain/decision.js';
import { ConfigError } from '../domain/errors.js';
import { startResponder } from '../main.js';
import { buildPolicyBundle } from '../policy/build-policy-bundle.js';
import { createConfiguredPolicyGate, effectiveEvaluator } from '../policy/create-policy-gate.js';
import { createPool } from '../store/database.js';
import { startEmbeddedDatabase } from '../store/embedded-postgres.js';
import { createBuiltinMcpServer, serveBuiltinMcpOverStdio, startBuiltinMcpHttpServer } from '../tools/builtin-mcp-server.js';
import { createLokiApi } from '../tools/loki-api.js';
import { createPrometheusApi } from '../tools/prometheus-api.js';
import { RESPONDER_VERSION } from '../version.js';
import { missingModelReason } from '../agent/language-model.js';
import { actionScore, formatScenarioReport } from '../testing/scenarios/scenario-report.js';
import { DEFAULT_SCENARIO_DIR, runScenarioSuite } from '../testing/scenarios/scenario-suite.js';
import { runDemo } from './demo.js';

const program = new Command();
let keepRunning = false;
program
  .name('responder')
  .description('Self-hosted agentic incident responder: alert in, approved and verified fix out, every step audited.')
  .option('-c, --config <file>', 'config file (default: $RESPONDER_CONFIG, else ./responder.yaml if present)');

function configFile(): string | undefined {
  return program.opts<{ config?: string }>().config;
}

program
  .command('serve')
  .description('start the service: webhooks, API, workflows (embedded PostgreSQL and in-process policy unless configured otherwise)')
  .action(async () => {
    keepRunning = true;
    const config = loadConfig({ file: configFile() });
    const running = await startResponder(config);
    const shutdown = async (signal: string) => {
      running.log.info({ signal }, 'shutting down');
      // Workflows waiting for approval stay durable; a database client DBOS still holds may report
      // its connection closing as the embedded PostgreSQL stops. That is expected here, not a crash.
      process.on('uncaughtException', (error) => running.log.debug({ err: error }, 'ignored during shutdown'));
      await running.stop();
      process.exit(0);
    };
    // embedded-postgres installs signal hooks that stop the database at once, racing the ordered
    // shutdown below (audit sealing and workflow checkpoints still need it); ours replace them.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('demo')
  .description('offline, no LLM: send a sample alert through the whole loop on the embedded default and print the story')
  .option('--data-dir <dir>', 'keep the demo database here (default: a temporary directory, removed afterwards)')
  .action(async (options: { dataDir?: string }) => {
    process.exitCode = await runDemo({ dataDir: options.dataDir });
  });

const mcpCommand = program.command('mcp').description("Responder's built-in MCP server (Prometheus and Loki tools under mcp-grafana's names)");
mcpCommand
  .command('serve')
  .description('serve the built-in read-only tools to any MCP client, using prometheus.url and loki.url from the config')
  .option('--transport <transport>', 'stdio or http (streamable HTTP at /mcp)', 'stdio')
  .option('--host <host>', 'http: bind address (default: mcp.serve.host)')
  .option('--port <port>', 'http: port (default: mcp.serve.port)')
  .action(async (options: { transport: string; host?: string; port?: string }) => {
    const config = loadConfig({ file: configFile() });
    if (options.transport !== 'stdio' && options.transport !== 'http') {
      console.error(`--transport must be stdio or http, not ${options.transport}`);
      process.exitCode = 2;
      return;
    }
    const prometheus = config.prometheus.url ? createPrometheusApi({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs }) : null;
    const loki = config.loki.url ? createLokiApi({ url: config.loki.url, timeoutMs: config.loki.timeoutMs, tenantId: config.loki.tenantId }) : null;
    if (!prometheus && !loki) {
      console.error('neither prometheus.url nor loki.url is configured; the built-in MCP server would offer no tools');
      process.exitCode = 2;
      return;
    }
    const create = () => createBuiltinMcpServer({ prometheus, loki, version: RESPONDER_VERSION });
    keepRunning = true;
    if (options.transport === 'stdio') {
      // stdout carries the protocol; anything human goes to stderr.
      await serveBuiltinMcpOverStdio(create());
      console.error(`responder MCP server on stdio (prometheus: ${prometheus?.url ?? 'none'}, loki: ${loki?.url ?? 'none'})`);
      return;
    }
    const port = options.port === undefined ? config.mcp.serve.port : Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`--port must be a port number, not ${options.port}`);
      process.exitCode = 2;
      keepRunning = false;
      return;
    }
    const host = options.host ?? config.mcp.serve.host;
    if (!config.mcp.serve.bearerToken && !['127.0.0.1', '::1', 'localhost'].includes(host)) {
      console.error(`warning: serving on ${host} without mcp.serve.bearerToken; anyone who reaches the port can query Prometheus and Loki through it`);
    }
    const server = await startBuiltinMcpHttpServer({ createServer: create, host, port, bearerToken: config.mcp.serve.bearerToken });
    console.log(`responder MCP server listening at ${server.url}${config.mcp.serve.bearerToken ? ' (bearer token required)' : ''}`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('eval')
  .description('run the planted-fault scenarios against the configured model (agent.*) and score the chosen actions; needs Prometheus (Debian package) installed')
  .option('--scenarios <dir>', 'scenario directory with a catalog/ subdirectory', DEFAULT_SCENARIO_DIR)
  .option('--transport <transport>', 'how the built-in MCP tools are reached: in-process or http', 'in-process')
  .action(async (options: { scenarios: string; transport: string }) => {
    const config = loadConfig({ file: configFile() });
    const reason = missingModelReason(config.agent);
    if (reason) {
      console.error(`responder eval needs a model: ${reason}`);
      process.exitCode = 2;
      return;
    }
    if (options.transport !== 'in-process' && options.transport !== 'http') {
      console.error(`--transport must be in-process or http, not ${options.transport}`);
      process.exitCode = 2;
      return;
    }
    console.log(`evaluating ${config.agent.provider}/${config.agent.model} on ${options.scenarios}`);
    const results = await runScenarioSuite({
      directory: options.scenarios,
      transports: [options.transport],
      agent: config.agent,
      onResult: (r) => console.log(`  ${r.scenario}: ${r.actionCorrect ? 'correct' : 'WRONG'} (${r.chosenAction ?? 'no action'}; ${r.investigation.outcome})`),
    });
    console.log(formatScenarioReport(results));
    console.log(actionScore(results));
    process.exitCode = results.every((r) => r.actionCorrect) ? 0 : 1;
  });

const configCommand = program.command('config').description('configuration tools');
configCommand
  .command('check')
  .description('validate the config (file + RESPONDER_* env) and report every problem with its path')
  .action(() => {
    const result = checkConfig({ file: configFile() });
    if (result.config === null) {
      console.error(new ConfigError(result.problems).message);
      process.exitCode = 1;
      return;
    }
    const routes = result.config.routes.map((r) => `${r.name} (${r.mode})`).join(', ') || 'none: alerts are stored, not acted on';
    console.log(`config OK\n  database: ${result.config.database.url ? 'external' : `embedded under ${result.config.dataDir}`}\n  policy: ${effectiveEvaluator(result.config.policy) === 'wasm' ? `in-process wasm (${result.config.policy.bundleFile})` : (result.config.policy.url ?? `local OPA over ${result.config.policy.policyDir}`)}\n  routes: ${routes}`);
  });

const policyCommand = program.command('policy').description('policy tools (OPA)');
policyCommand
  .command('build')
  .description('compile policy.policyDir to the wasm bundle at policy.bundleFile with `opa build -t wasm`')
  .option('--out <file>', 'write the bundle here instead of policy.bundleFile')
  .action(async (options: { out?: string }) => {
    const config = loadConfig({ file: configFile() });
    const outFile = options.out ?? resolveShippedPath(config.policy.bundleFile);
    const built = await buildPolicyBundle({ opaBinary: resolveTool(config.policy.opaBinary), policyDir: resolveShippedPath(config.policy.policyDir), outFile });
    console.log(`built ${built.outFile} (revision ${built.revision})`);
  });
policyCommand
  .command('eval')
  .description('evaluate one policy input (JSON, contract version 1) with the configured evaluator and print the decision')
  .requiredOption('--input <file>', 'policy input JSON file, or - for standard input')
  .action(async (options: { input: string }) => {
    const config = loadConfig({ file: configFile() });
    const text = readFileSync(options.input === '-' ? 0 : options.input, 'utf8');
    const parsed = PolicyInputSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      console.error(`not a policy input (version ${POLICY_INPUT_VERSION}):\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(input)'}: ${i.message}`).join('\n')}`);
      process.exitCode = 1;
      return;
    }
    const policy = await createConfiguredPolicyGate(config, pino({ level: 'warn' }, pino.destination(2)));
    try {
      const outcome = await policy.gate.evaluate(parsed.data);
      if (outcome.kind === 'unavailable') {
        console.error(`policy unavailable: ${outcome.reason}`);
        process.exitCode = 2;
        return;
      }
      console.log(JSON.stringify({ ...outcome.decision, evaluator: outcome.evaluator, revision: outcome.revision }, null, 2));
    } finally {
      await policy.stop();
    }
  });
policyCommand
  .command('test')
  .description('run the Rego unit tests in policy.policyDir with `opa test -v`')
  .action(() => {
    const config = loadConfig({ file: configFile() });
    const result = spawnSync(resolveTool(config.policy.opaBinary), ['test', '-v', resolveShippedPath(config.policy.policyDir)], { stdio: 'inherit' });
    if (result.error) console.error(`could not run opa: ${result.error.message}`);
    process.exitCode = result.status ?? 1;
  });

const auditCommand = program.command('audit').description('audit trail tools');
auditCommand
  .command('verify')
  .description('walk the hash chain of every audit event and report the first broken link')
  .action(async () => {
    const config = loadConfig({ file: configFile() });
    const embedded = config.database.url ? null : await startEmbeddedDatabase({ dataDir: config.dataDir, port: config.database.embeddedPort });
    const pool = createPool(config.database.url ?? embedded!.url, 2);
    try {
      // Events written but not yet sealed (the service stopped first) are sealed now, then checked.
      const sealed = await sealAllAuditEvents(pool);
      if (sealed > 0) console.log(`sealed ${sealed} event(s) that were written but not yet on the chain`);
      const result = await verifyAuditChain(pool);
      if (result.ok) {
        console.log(`audit chain OK: ${result.events} events, head ${result.head}`);
      } else {
        console.error(`audit chain BROKEN at event ${result.brokenAt}: ${result.problem} (${result.events} events verified before it)`);
        process.exitCode = 1;
      }
    } finally {
      await pool.end();
      await embedded?.stop();
    }
  });

// A dependency's exit hook (async-exit-hook, via embedded-postgres) exits with 0 on beforeExit,
// dropping process.exitCode; one-shot commands therefore exit explicitly.
program
  .parseAsync()
  .then(() => {
    if (!keepRunning) process.exit(process.exitCode ?? 0);
  })
  .catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
