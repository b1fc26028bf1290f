import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../../config/load-config.js';
import { POLICY_INPUT_VERSION, PolicyInputSchema } from '../../domain/decision.js';
import { createConfiguredPolicyGate } from '../../policy/create-policy-gate.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerPolicyEvalCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'policy')
    .command('eval')
    .description('evaluate one policy input (JSON, contract version 1) with the configured evaluator and print the decision')
    .requiredOption('--input <file>', 'policy input JSON file, or - for standard input')
    .action(async (options: { input: string }) => {
      const config = loadConfig({ file: cli.configFile() });
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
}
