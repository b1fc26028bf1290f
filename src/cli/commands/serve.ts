import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { configFilePath, loadConfig } from '../../config/load-config.js';
import { startResponder } from '../../main.js';
import type { CliContext } from '../cli-context.js';
import { runInit } from '../init-config.js';
import { onShutdownSignal } from '../shutdown-signals.js';

/** Longer than the stop of every part (PostgreSQL waits up to 20 s); the systemd unit's TimeoutStopSec is above it. */
const SHUTDOWN_DEADLINE_MS = 40_000;

export function registerServeCommand(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description('start the service: webhooks, API, workflows (embedded PostgreSQL and in-process policy unless configured otherwise)')
    .option('--init', 'when no config file exists yet, write one first as `responder init` does (what `npm start` runs)')
    .action(async (options: { init?: boolean }) => {
      const file = configFilePath({ file: cli.configFile() });
      if (options.init && !existsSync(file)) {
        const code = await runInit(file, { startingNow: true }, (line) => console.log(line));
        if (code !== 0) {
          process.exitCode = code;
          return;
        }
        console.log('');
      }
      const config = loadConfig({ file: cli.configFile() });
      cli.keepRunning();
      // Signals are taken before starting, so a stop that arrives during start-up still stops in order.
      const starting = startResponder(config);
      onShutdownSignal(
        async (signal) => {
          const running = await starting.catch(() => null);
          // A start that failed has stopped what it started and reports its own error.
          if (!running) return;
          running.log.info({ signal }, 'shutting down');
          // Workflows waiting for approval stay durable; a database client DBOS still holds may report
          // its connection closing as the embedded PostgreSQL stops. That is expected here, not a crash.
          process.on('uncaughtException', (error) => running.log.debug({ err: error }, 'ignored during shutdown'));
          await running.stop();
          running.log.info('stopped');
          process.exit(0);
        },
        { deadlineMs: SHUTDOWN_DEADLINE_MS, onDeadline: () => console.error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000}s; exiting`) },
      );
      await starting;
    });
}
