import { InvalidArgumentError, type Command } from 'commander';
import { configFilePath } from '../../config/load-config.js';
import type { CliContext } from '../cli-context.js';
import { DEFAULT_TEST_SERVICE, runInit } from '../init-config.js';

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`expected a port between 1 and 65535, got "${text}"`);
  return port;
}

export interface InitCommandOptions {
  host?: string;
  port?: number;
  embeddedPort?: number;
  dataDir?: string;
  name?: string;
  testService: string;
}

export function registerInitCommand(program: Command, cli: CliContext): void {
  program
    .command('init')
    .description('write a starter config (one route, an admin token, the intake key) and print the Alertmanager and Grafana settings for it; never overwrites')
    .option('--host <address>', 'server.host to listen on; 0.0.0.0 accepts webhooks from other hosts', '127.0.0.1')
    .option('--port <port>', 'server.port (default: 8080, or the next free port when 8080 is taken)', parsePort)
    .option('--embedded-port <port>', 'database.embeddedPort (default: 54329, or the next free port)', parsePort)
    .option('--data-dir <dir>', 'dataDir, relative to where `responder serve` runs', './data')
    .option('--name <name>', "the admin token's owner, recorded as the approver (default: your login name)")
    .option('--test-service <unit>', 'the systemd unit the printed test alert asks to restart', DEFAULT_TEST_SERVICE)
    .action(async (options: InitCommandOptions) => {
      process.exitCode = await runInit(configFilePath({ file: cli.configFile() }), options, (line) => console.log(line));
    });
}
