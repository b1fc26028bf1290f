#!/usr/bin/env node
import { Command } from 'commander';
import { sealAllAuditEvents, verifyAuditChain } from '../audit/audit-log.js';
import { checkConfig, loadConfig } from '../config/load-config.js';
import { ConfigError } from '../domain/errors.js';
import { startResponder } from '../main.js';
import { createPool } from '../store/database.js';
import { startEmbeddedDatabase } from '../store/embedded-postgres.js';
import { runDemo } from './demo.js';

const program = new Command();
program
  .name('responder')
  .description('Self-hosted agentic incident responder: alert in, approved and verified fix out, every step audited.')
  .option('-c, --config <file>', 'config file (default: $RESPONDER_CONFIG, else ./responder.yaml if present)');

function configFile(): string | undefined {
  return program.opts<{ config?: string }>().config;
}

program
  .command('serve')
  .description('start the service: webhooks, API, workflows (embedded PostgreSQL and a local OPA unless configured otherwise)')
  .action(async () => {
    const config = loadConfig({ file: configFile() });
    const running = await startResponder(config);
    const shutdown = async (signal: string) => {
      running.log.info({ signal }, 'shutting down');
      await running.stop();
      process.exit(0);
    };
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
    console.log(`config OK\n  database: ${result.config.database.url ? 'external' : `embedded under ${result.config.dataDir}`}\n  policy: ${result.config.policy.url ?? `local OPA over ${result.config.policy.policyDir}`}\n  routes: ${routes}`);
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

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
