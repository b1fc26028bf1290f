import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { exportAuditTrail } from '../../audit/audit-export.js';
import { sealAllAuditEvents } from '../../audit/seal.js';
import { loadConfig } from '../../config/load-config.js';
import { createPool } from '../../database/database.js';
import { openEmbeddedDatabase } from '../../database/embedded-postgres.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import { parseDuration, parseToolTime } from '../../tools/parse-tool-time.js';
import { gatherAnchors, keysForVerify } from '../audit-inputs.js';
import { commandGroup, type CliContext } from '../cli-context.js';

interface ExportOptions {
  since?: string;
  incident?: string;
  output?: string;
  loki: boolean;
}

/** RFC3339, `now-24h`, or a bare duration meaning that long ago (`24h`, `7d`). */
function parseSince(text: string, now: Date): Date {
  if (/^\d+(\.\d+)?(ns|us|µs|μs|ms|s|m|h|d)/.test(text) && !/^\d{4}-/.test(text)) return new Date(now.getTime() - parseDuration(text));
  return parseToolTime(text, now);
}

async function write(out: Writable, line: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
}

export function registerAuditExportCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'audit')
    .command('export')
    .description('write the audit chain as JSON lines with its anchors: everything `audit verify --file <export> --key-file <key>` needs, without the database')
    .option('--since <time>', 'from the first event written at or after this time to the newest (RFC3339, now-24h, or 24h)')
    .option('--incident <id>', "one incident's events; other incidents' events in between appear as their links only")
    .option('-o, --output <file>', 'write here instead of standard output')
    .option('--no-loki', 'do not include anchors read from Loki')
    .action(async (options: ExportOptions) => {
      const config = loadConfig({ file: cli.configFile() });
      const since = options.since ? parseSince(options.since, new Date()) : undefined;
      if (options.incident && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.incident)) {
        throw new InvalidArgumentError('invalid_argument', `--incident needs an incident id (a UUID), not ${JSON.stringify(options.incident)}`);
      }
      const keys = keysForVerify(config, []);
      const gathered = await gatherAnchors(config, { files: [], loki: options.loki, lokiLookbackHours: 720 });
      for (const warning of gathered.warnings) console.error(`warning: ${warning}`);
      const embedded = config.database.url ? null : await openEmbeddedDatabase({ dataDir: config.dataDir, port: config.database.embeddedPort });
      const pool = createPool(config.database.url ?? embedded!.url, 2);
      const out = options.output ? createWriteStream(options.output, { mode: 0o600 }) : process.stdout;
      let lines = 0;
      try {
        if (keys.current) await sealAllAuditEvents(pool, keys.current);
        for await (const line of exportAuditTrail(pool, { since, incidentId: options.incident }, gathered.anchors)) {
          await write(out, line);
          lines += 1;
        }
      } finally {
        await pool.end();
        await embedded?.stop();
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
        }
      }
      if (lines <= 1) console.error(`warning: no sealed events ${options.incident ? `of incident ${options.incident}` : options.since ? `since ${options.since}` : 'yet'}; the export holds only its header`);
      if (options.output) console.error(`wrote ${lines} line(s) to ${options.output}`);
    });
}
