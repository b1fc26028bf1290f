import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, type Pool } from '../../src/database/database.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { migrate } from '../../src/database/migrations.js';
import { freePort } from '../../src/eval/free-port.js';

export interface TestDatabase {
  pool: Pool;
  url: string;
  /** Ends the pool, stops PostgreSQL and removes its data directory. */
  stop(): Promise<void>;
}

/** A real embedded PostgreSQL of the test's own, migrated, in a temporary directory. */
export async function startTestDatabase(name: string, connections = 4): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), `responder-${name}-`));
  // The embedded PostgreSQL runs as the postgres user when tests run as root.
  chmodSync(dataDir, 0o755);
  try {
    const database = await startEmbeddedDatabase({ dataDir, port: await freePort() });
    const pool = createPool(database.url, connections);
    await migrate(pool);
    return {
      pool,
      url: database.url,
      async stop() {
        await pool.end();
        await database.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
