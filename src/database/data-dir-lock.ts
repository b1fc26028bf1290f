import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseError } from '../domain/errors.js';
import { isAlive } from '../supervision/process-alive.js';

const LOCK_FILE = 'serve.pid';

/** A live process that is a Node program; a pid reused by something else does not hold the lock. */
function isLiveService(pid: number): boolean {
  if (pid === process.pid || !isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** The pid of the live `serve` holding the data dir, or null (`responder status` names it). */
export function dataDirHolder(dataDir: string): number | null {
  const file = join(resolve(dataDir), LOCK_FILE);
  if (!existsSync(file)) return null;
  const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
  return Number.isInteger(holder) && isLiveService(holder) ? holder : null;
}

export interface DataDirLock {
  release(): void;
}

/**
 * One `serve` per data dir. A second one would stop the first one's PostgreSQL as a "leftover" and
 * share its intake key and audit anchors, so it refuses and leaves the first untouched. A lock left by
 * a service that died (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return {
        release() {
          if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && isLiveService(holder)) {
        throw new DatabaseError(
          'database_in_use',
          `another responder serve (pid ${holder}) is using the data dir ${dir}; stop it first or give this one its own dataDir. CLI commands (audit verify, status) work beside it.`,
        );
      }
      unlinkSync(file);
    }
  }
  throw new DatabaseError('database_in_use', `could not take the lock ${file}`);
}
