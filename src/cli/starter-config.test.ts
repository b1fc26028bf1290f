import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { renderStarterConfig } from './starter-config.js';

const dir = mkdtempSync(join(tmpdir(), 'responder-starter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('is a config serve accepts: one approve route for agentic="true", an admin token kept only as its SHA-256, the intake key', () => {
  const token = 'the-token-printed-once-0123456789';
  const sha256 = createHash('sha256').update(token).digest('hex');
  const text = renderStarterConfig({ host: '0.0.0.0', port: 8123, embeddedPort: 54400, dataDir: './data', intakeKey: '-starts-with-a-dash', tokenName: 'alice', tokenSha256: sha256, writtenAt: new Date() });
  const file = join(dir, 'responder.yaml');
  writeFileSync(file, text);
  const config = loadConfig({ file, env: {} });
  expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8123 });
  expect(config.database.embeddedPort).toBe(54400);
  expect(config.intake.key).toBe('-starts-with-a-dash');
  expect(config.routes).toEqual([{ name: 'agentic', matchers: [{ name: 'agentic', operator: '=', value: 'true' }], mode: 'approve', actions: [] }]);
  expect(config.auth.tokens).toEqual([{ name: 'alice', role: 'admin', sha256 }]);
  expect(text).not.toContain(token);
  // What to add next is there, commented out.
  expect(config.prometheus.url).toBeUndefined();
  expect(text).toMatch(/^# prometheus:\n# {3}url: /m);
});
