import type { Command } from 'commander';
import { missingModelReason } from '../../agent/language-model.js';
import { loadConfig } from '../../config/load-config.js';
import { actionScore, formatScenarioReport } from '../../eval/scenario-report.js';
import { DEFAULT_SCENARIO_DIR, runScenarioSuite } from '../../eval/scenario-suite.js';
import type { CliContext } from '../cli-context.js';

export function registerEvalCommand(program: Command, cli: CliContext): void {
  program
    .command('eval')
    .description('run the planted-fault scenarios against the configured model (agent.*) and score the chosen actions against the shipped remediation catalog; runs no remediation; needs Prometheus (Debian package) installed')
    .option('--scenarios <dir>', 'scenario directory: *.yaml and an inventory.ini of the hosts they name (proposals are validated against the shipped remediations/ catalog)', DEFAULT_SCENARIO_DIR)
    .option('--transport <transport>', 'how the built-in MCP tools are reached: in-process or http', 'in-process')
    .action(async (options: { scenarios: string; transport: string }) => {
      const config = loadConfig({ file: cli.configFile() });
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
        builtinTools: config.mcp.builtinTools,
        binaries: config.eval,
        onResult: (r) => console.log(`  ${r.scenario}: ${r.actionCorrect ? 'correct' : 'WRONG'} (${r.chosenAction ?? 'no action'}; ${r.investigation.outcome})`),
      });
      console.log(formatScenarioReport(results));
      console.log(actionScore(results));
      process.exitCode = results.every((r) => r.actionCorrect) ? 0 : 1;
    });
}
