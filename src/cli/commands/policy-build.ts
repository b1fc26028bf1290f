import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { resolveShippedPath, resolveTool } from '../../config/package-paths.js';
import { buildPolicyBundle } from '../../policy/build-policy-bundle.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerPolicyBuildCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'policy')
    .command('build')
    .description('compile policy.policyDir to the wasm bundle at policy.bundleFile with `opa build -t wasm`')
    .option('--out <file>', 'write the bundle here instead of policy.bundleFile')
    .action(async (options: { out?: string }) => {
      const config = loadConfig({ file: cli.configFile() });
      const outFile = options.out ?? resolveShippedPath(config.policy.bundleFile);
      const built = await buildPolicyBundle({ opaBinary: resolveTool(config.policy.opaBinary), policyDir: resolveShippedPath(config.policy.policyDir), outFile });
      console.log(`built ${built.outFile} (revision ${built.revision})`);
    });
}
