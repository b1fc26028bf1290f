import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigSchema, type ConfigInput } from '../../src/config/config.schema.js';
import { startResponder, type RunningResponder } from '../../src/main.js';
import type { IncidentRecord } from '../../src/domain/incident-record.js';
import { freePort } from '../../src/eval/free-port.js';

export const REPO = join(import.meta.dirname, '..', '..');
export const DEMO_CATALOG = join(REPO, 'examples/demo/remediations');
export const APPROVER_TOKEN = 'test-approver-token-0123456789';
export const SECOND_APPROVER_TOKEN = 'second-approver-token-0123456789';
export const VIEWER_TOKEN = 'viewer-token-0123456789';

export interface TestResponder extends RunningResponder {
  dataDir: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** A read as the viewer token. */
  get(path: string): Promise<Response>;
  record(id: string): Promise<IncidentRecord>;
  waitFor(id: string, predicate: (record: IncidentRecord) => boolean, timeoutMs?: number): Promise<IncidentRecord>;
  approve(id: string, body?: Record<string, unknown>, token?: string): Promise<Response>;
  cleanup(): Promise<void>;
}

export function makeDataDir(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'responder-test-'));
  // The embedded PostgreSQL runs as the postgres user when tests run as root.
  chmodSync(dataDir, 0o755);
  return dataDir;
}

export async function startTestResponder(overrides: Partial<ConfigInput> = {}, dataDir = makeDataDir(), options: { workflowVersion?: string } = {}): Promise<TestResponder> {
  const config = ConfigSchema.parse({
    dataDir,
    server: { port: 0 },
    database: { embeddedPort: await freePort() },
    intake: { key: 'test-intake-key' },
    auth: { tokens: [`alice:${APPROVER_TOKEN}`, `bob:${SECOND_APPROVER_TOKEN}`, `vera:${VIEWER_TOKEN}:viewer`] },
    execution: { catalogDir: DEMO_CATALOG, inventory: join(DEMO_CATALOG, 'inventory.ini'), timeoutSeconds: 60 },
    policy: { policyDir: join(REPO, 'policies'), retrySeconds: 1 },
    verification: { timeoutSeconds: 20, intervalSeconds: 1 },
    log: { level: 'silent' },
    ...overrides,
  });
  const running = await startResponder(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), workflowVersion: options.workflowVersion });
  const responder: TestResponder = {
    ...running,
    dataDir,
    post: (path, body, headers = {}) =>
      fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (path) => fetch(`${running.url}${path}`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } }),
    async record(id) {
      const response = await responder.get(`/api/v1/incidents/${id}`);
      if (!response.ok) throw new Error(`GET incident ${id}: ${response.status}`);
      return (await response.json()) as IncidentRecord;
    },
    async waitFor(id, predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: IncidentRecord | null = null;
      while (Date.now() < deadline) {
        last = await responder.record(id);
        if (predicate(last)) return last;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`incident ${id} did not reach the expected state in ${timeoutMs} ms; last state ${last?.state} (${last?.stateReason})`);
    },
    approve: (id, body = { approved: true, reason: 'looks right' }, token = APPROVER_TOKEN) =>
      responder.post(`/api/v1/incidents/${id}/resume`, body, { authorization: `Bearer ${token}` }),
    async cleanup() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return responder;
}
