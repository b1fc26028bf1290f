import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditError } from '../domain/errors.js';

/** The secret that seals the chain. Only its id is ever stored beside an event. */
export interface AuditKey {
  /** 16 hex digits derived from the secret: names the key in the database, anchors and exports without revealing it. */
  id: string;
  secret: Buffer;
  /** Where it was read from, for messages. */
  file: string;
}

/** The keys verify may use, by id: the current one and those of earlier rotations. */
export type AuditKeyring = ReadonlyMap<string, AuditKey>;

const MIN_KEY_BYTES = 32;

export const DEFAULT_KEY_FILE = 'audit.key';

export function auditKeyId(secret: Buffer): string {
  return createHmac('sha256', secret).update('responder audit key id').digest('hex').slice(0, 16);
}

/**
 * A secret for another purpose, derived one-way from the audit key: every replica holds the audit key and
 * keeps it across restarts, so what is derived from it is the same everywhere and survives a restart,
 * and it reveals nothing of the audit key.
 */
export function derivedSecret(key: AuditKey, purpose: string): Buffer {
  return createHmac('sha256', key.secret).update(`responder derived secret: ${purpose}`).digest();
}

/** A key from its secret, for tests and for keys that do not live in a file. */
export function auditKeyFromSecret(secret: Buffer | string, file = '(memory)'): AuditKey {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_KEY_BYTES) throw new AuditError('audit_key_invalid', `audit key ${file} is ${bytes.length} bytes; it needs at least ${MIN_KEY_BYTES} (generate one with: openssl rand -hex 32)`);
  return { id: auditKeyId(bytes), secret: bytes, file };
}

/**
 * Reads a key file: its content, trimmed, is the secret. A file other users can read is refused rather
 * than fixed: whoever could read it may already hold the key, and the person who made it so should know.
 */
export function readAuditKey(file: string): AuditKey {
  const path = resolve(file);
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new AuditError('audit_key_unreadable', `cannot read the audit key ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path });
  }
  if ((mode & 0o077) !== 0) {
    throw new AuditError(
      'audit_key_permissions',
      `the audit key ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: other users may read it, and with it rewrite the audit trail. Check who could have, then: chmod 600 ${path}`,
      { file: path },
    );
  }
  return auditKeyFromSecret(text, path);
}

/**
 * The key the service seals with: `audit.keyFile` when configured (it must exist), else dataDir/audit.key,
 * generated with mode 0600 on first start. Answers whether it was generated, so the caller can say so.
 */
export function loadOrCreateAuditKey(options: { dataDir: string; keyFile?: string }): { key: AuditKey; generated: boolean } {
  if (options.keyFile) return { key: readAuditKey(options.keyFile), generated: false };
  const file = join(resolve(options.dataDir), DEFAULT_KEY_FILE);
  let fd: number;
  try {
    // wx: never overwrite a key another process just wrote; losing the key would make the chain unverifiable.
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { key: readAuditKey(file), generated: false };
    throw new AuditError('audit_key_unreadable', `cannot create the audit key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
  const secret = randomBytes(32).toString('hex');
  try {
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { key: auditKeyFromSecret(secret, file), generated: true };
}

export function createKeyring(keys: readonly AuditKey[]): AuditKeyring {
  return new Map(keys.map((key) => [key.id, key]));
}
