import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateAuditKey, readAuditKey } from './audit-key.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'responder-audit-key-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the audit key', () => {
  it('is generated once into dataDir/audit.key with mode 0600 and read back the same at the next start', () => {
    const first = loadOrCreateAuditKey({ dataDir: dir });
    expect(first.generated).toBe(true);
    expect(first.key.file).toBe(join(dir, 'audit.key'));
    expect(statSync(first.key.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.key.file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const second = loadOrCreateAuditKey({ dataDir: dir });
    expect(second.generated).toBe(false);
    expect(second.key.id).toBe(first.key.id);
    expect(second.key.secret.equals(first.key.secret)).toBe(true);
  });

  it('comes from audit.keyFile when configured, and a missing one is an error naming the file', () => {
    const file = join(dir, 'elsewhere.key');
    expect(() => loadOrCreateAuditKey({ dataDir: dir, keyFile: file })).toThrow(`cannot read the audit key ${file}: ENOENT`);
    writeFileSync(file, `${'s'.repeat(40)}\n`, { mode: 0o600 });
    expect(loadOrCreateAuditKey({ dataDir: dir, keyFile: file })).toMatchObject({ generated: false, key: { file } });
  });

  it('refuses a key file other users can read, saying how to fix it', () => {
    const file = join(dir, 'loose.key');
    writeFileSync(file, 'x'.repeat(64));
    chmodSync(file, 0o644);
    expect(() => readAuditKey(file)).toThrow(`the audit key ${file} has mode 0644: other users may read it, and with it rewrite the audit trail. Check who could have, then: chmod 600 ${file}`);
    chmodSync(file, 0o640);
    expect(() => readAuditKey(file)).toThrow(/mode 0640/);
  });

  it('refuses a key shorter than 32 bytes', () => {
    const file = join(dir, 'short.key');
    writeFileSync(file, 'too-short\n', { mode: 0o600 });
    expect(() => readAuditKey(file)).toThrow(/is 9 bytes; it needs at least 32/);
  });

  it('has an id that names it without revealing it', () => {
    const file = join(dir, 'a.key');
    writeFileSync(file, 'k'.repeat(64), { mode: 0o600 });
    const key = readAuditKey(file);
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.secret.toString('hex')).not.toContain(key.id);
  });
});
