import type { Command } from 'commander';
import { sealAllAuditEvents } from '../../audit/seal.js';
import { verifyAuditChain } from '../../audit/verify.js';
import { loadConfig } from '../../config/load-config.js';
import { createPool } from '../../database/database.js';
import { openEmbeddedDatabase } from '../../database/embedded-postgres.js';
import { commandGroup, type CliContext } from '../cli-context.js';

export function registerAuditVerifyCommand(program: Command, cli: CliContext): void {
  commandGroup(program, 'audit')
    .command('verify')
    .description('walk the hash chain of every audit event and report the first broken link')
    .action(async () => {
      const config = loadConfig({ file: cli.configFile() });
      // Beside a running service this connects to its database and leaves it running.
      const embedded = config.database.url ? null : await openEmbeddedDatabase({ dataDir: config.dataDir, port: config.database.embeddedPort });
      const pool = createPool(config.database.url ?? embedded!.url, 2);
      try {
        // Events written but not yet sealed (the service stopped first) are sealed now, then checked.
        const sealed = await sealAllAuditEvents(pool);
        if (sealed > 0) console.log(`sealed ${sealed} event(s) that were written but not yet on the chain`);
        const result = await verifyAuditChain(pool);
        if (result.ok) {
          console.log(`audit chain OK: ${result.events} events, head ${result.head}`);
        } else {
          console.error(`audit chain BROKEN at event ${result.brokenAt}: ${result.problem} (${result.events} events verified before it)`);
          process.exitCode = 1;
        }
      } finally {
        await pool.end();
        await embedded?.stop();
      }
    });
}
