import type { Command } from 'commander';
import { checkConfig } from '../../config/load-config.js';
import { ConfigError } from '../../domain/errors.js';
import { effectiveEvaluator } from '../../policy/create-policy-gate.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerConfigCheckCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'config')
    .command('check')
    .description('validate the config (file + RESPONDER_* env) and report every problem with its path')
    .action(() => {
      const result = checkConfig({ file: cli.configFile() });
      if (result.config === null) {
        console.error(new ConfigError(result.problems).message);
        process.exitCode = 1;
        return;
      }
      const routes = result.config.routes.map((r) => `${r.name} (${r.mode})`).join(', ') || 'none: alerts are stored, not acted on';
      console.log(`config OK\n  database: ${result.config.database.url ? 'external' : `embedded under ${result.config.dataDir}`}\n  policy: ${effectiveEvaluator(result.config.policy) === 'wasm' ? `in-process wasm (${result.config.policy.bundleFile})` : (result.config.policy.url ?? `local OPA over ${result.config.policy.policyDir}`)}\n  routes: ${routes}`);
    });
}
