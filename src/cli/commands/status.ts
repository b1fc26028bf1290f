import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkConfig, configFileToRead } from '../../config/load-config.js';
import { dataDirHolder } from '../../database/data-dir-lock.js';
import { ConfigError } from '../../domain/errors.js';
import type { CliContext } from '../cli-context.js';
import { statusReport, type ServiceProbe } from '../status-report.js';
import { localUrl } from '../webhook-snippets.js';

async function probe(url: string): Promise<ServiceProbe> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    if (response.ok) return { kind: 'ready', url };
    const body = (await response.json().catch(() => ({}))) as { checks?: Record<string, { ok: boolean; detail?: string }> };
    const failing = Object.entries(body.checks ?? {})
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => `${name}: ${check.detail ?? 'failing'}`);
    return { kind: 'not-ready', url, detail: failing.join('; ') || `HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { kind: 'down', url, detail: cause === 'ECONNREFUSED' ? 'nothing listens there' : (error as Error).message };
  }
}

export function registerStatusCommand(program: Command, cli: CliContext): void {
  program
    .command('status')
    .description('what is configured and what is missing (route, token, Prometheus, model), with the lines to add; whether the service is up')
    .action(async () => {
      const result = checkConfig({ file: cli.configFile() });
      if (result.config === null) {
        console.error(new ConfigError(result.problems).message);
        process.exitCode = 1;
        return;
      }
      const config = result.config;
      const keyFile = join(resolve(config.dataDir), 'intake.key');
      const intakeKey = config.intake.key
        ? { source: 'config' as const, key: config.intake.key }
        : existsSync(keyFile)
          ? { source: 'data-dir' as const, key: readFileSync(keyFile, 'utf8').trim() }
          : null;
      const lines = statusReport(config, {
        configFile: configFileToRead({ file: cli.configFile() }),
        intakeKey,
        servePid: dataDirHolder(config.dataDir),
        service: await probe(localUrl(config.server)),
      });
      for (const line of lines) console.log(line);
    });
}
