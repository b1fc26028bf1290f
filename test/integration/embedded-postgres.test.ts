import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
