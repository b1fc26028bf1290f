import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startEmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { freePort } from '../../src/eval/free-port.js';
import { REPO, makeDataDir } from '../support/responder-harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function watchdogsFor(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\u0000');
        return args.includes('-e') && args.includes(String(pid)) && args.some((a) => a.includes('alive(child)'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

it('a postmaster left running by a killed service (watchdog gone too) is stopped and the cluster reused on the next start', async () => {
  const dataDir = makeDataDir();
  const port = await freePort();
  const script = `import(${JSON.stringify(join(REPO, 'dist/src/database/embedded-postgres.js'))})
    .then((m) => m.startEmbeddedDatabase({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} }))
    .then((db) => { console.log(db.pid); setInterval(() => {}, 1 << 30); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const postmaster = await new Promise<number>((done) => child.stdout.once('data', (chunk: Buffer) => done(Number(chunk.toString().trim()))));
  try {
    expect(alive(postmaster)).toBe(true);
    // Worst case: the watchdog dies with the service, so nothing stops the postmaster.
    for (const pid of watchdogsFor(child.pid!)) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    expect(alive(postmaster), 'the orphan is still running').toBe(true);

    const db = await startEmbeddedDatabase({ dataDir, port });
    try {
      expect(alive(postmaster)).toBe(false);
      expect(db.pid).not.toBe(postmaster);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await client.end();
    } finally {
      await db.stop();
    }
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  } finally {
    if (alive(postmaster)) spawnSync('kill', ['-KILL', String(postmaster)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('generates a random superuser password once, keeps it 0600 in the data dir, and refuses the old fixed one', async () => {
  const dataDir = makeDataDir();
  const port = await freePort();
  const { default: pg } = await import('pg');
  const canConnect = async (password: string) => {
    const client = new pg.Client({ connectionString: `postgres://responder:${encodeURIComponent(password)}@127.0.0.1:${port}/responder` });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };
  try {
    const first = await startEmbeddedDatabase({ dataDir, port });
    const file = join(dataDir, 'postgres.password');
    const password = readFileSync(file, 'utf8').trim();
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(first.url).toContain(encodeURIComponent(password));
      expect(await canConnect(password)).toBe(true);
      expect(await canConnect('responder-embedded')).toBe('28P01');
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedDatabase({ dataDir, port });
    await second.stop();
    expect(readFileSync(file, 'utf8').trim(), 'the password is generated once, not per start').toBe(password);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('moves a data dir still on the old fixed password to a generated one at its next start', async () => {
  const dataDir = makeDataDir();
  const port = await freePort();
  const { default: pg } = await import('pg');
  try {
    // Make the cluster look like one created before passwords were generated.
    const db = await startEmbeddedDatabase({ dataDir, port });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`ALTER ROLE responder PASSWORD 'responder-embedded'`);
    await admin.end();
    await db.stop();
    rmSync(join(dataDir, 'postgres.password'));

    const migrated = await startEmbeddedDatabase({ dataDir, port });
    try {
      const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
      expect(password).not.toBe('responder-embedded');
      const legacy = new pg.Client({ connectionString: `postgres://responder:responder-embedded@127.0.0.1:${port}/responder` });
      await expect(legacy.connect()).rejects.toMatchObject({ code: '28P01' });
      const client = new pg.Client({ connectionString: migrated.url });
      await client.connect();
      await client.end();
    } finally {
      await migrated.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
