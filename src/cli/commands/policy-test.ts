import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { resolveShippedPath, resolveTool } from '../../config/package-paths.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerPolicyTestCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'policy')
    .command('test')
    .description('run the Rego unit tests in policy.policyDir with `opa test -v`')
    .action(() => {
      const config = loadConfig({ file: cli.configFile() });
      const result = spawnSync(resolveTool(config.policy.opaBinary), ['test', '-v', resolveShippedPath(config.policy.policyDir)], { stdio: 'inherit' });
      if (result.error) console.error(`could not run opa: ${result.error.message}`);
      process.exitCode = result.status ?? 1;
    });
}
