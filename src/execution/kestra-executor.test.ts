import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../remediation/catalog.js';
import { startFakeKestra, type FakeKestra } from '../testing/fake-kestra.js';
import { createKestraExecutor, type KestraAuth } from './kestra-executor.js';

const entry = (flowId: string, dryRunInput?: string): CatalogEntry =>
  ({ id: flowId, executor: 'kestra', kestra: { namespace: 'platform.remediation', flowId, dryRunInput }, playbookPath: null }) as unknown as CatalogEntry;

let kestra: FakeKestra;
const token = 'kestra-api-token-123';

beforeAll(async () => {
  kestra = await startFakeKestra({
    auth: { kind: 'bearer', token },
    flows: {
      'platform.remediation/scale-deployment': { states: ['QUEUED', 'RUNNING', 'SUCCESS'], outputs: (inputs) => ({ replicas: Number(inputs.replicas), deployment: inputs.deployment ?? null }) },
      'platform.remediation/warns': { states: ['RUNNING', 'WARNING'] },
      'platform.remediation/garbage': { states: ['SUCCESS'], startAnswer: { status: 200, body: '<html>login</html>' } },
      'platform.remediation/bad-id': { states: ['SUCCESS'], startAnswer: { status: 200, body: JSON.stringify({ id: '../../flows/x', state: { current: 'CREATED' } }) } },
      'platform.remediation/odd-state': { states: ['EXPLODED'] },
    },
  });
});
afterAll(async () => kestra?.stop());

const executor = (auth: KestraAuth = { kind: 'bearer', token }, tenant?: string) =>
  createKestraExecutor({ url: kestra.url, tenant, auth, pollIntervalMs: 20, requestTimeoutMs: 2000, timeoutSeconds: 10 });

describe('the Kestra executor', () => {
  it('starts the flow with the inputs as multipart form fields, follows it to SUCCESS and maps its outputs', async () => {
    const inputs = { namespace: 'shop', deployment: 'web/../admin?x=1', replicas: 3, labels: ['a', 'b'] };
    const result = await executor().run({ entry: entry('scale-deployment'), inputs, runId: 'i:execute' });
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { replicas: 3, deployment: 'web/../admin?x=1' } });
    expect(result.output).toMatch(/kestra execution \S+ of platform\.remediation\.scale-deployment: SUCCESS/);
    const sent = kestra.executions.at(-1)!;
    expect(sent.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.namespace).toBe('platform.remediation');
    expect(sent.inputs).toEqual({ namespace: 'shop', deployment: 'web/../admin?x=1', replicas: '3', labels: '["a","b"]' });
    // Labels name the run (an input called "labels" stays a form field, never a query parameter).
    expect(new URLSearchParams(sent.query).getAll('labels')).toEqual(['responder-run:i-execute', 'responder-dry-run:false']);
  });

  it('puts the tenant in the path when configured', async () => {
    const result = await executor(undefined, 'main').run({ entry: entry('scale-deployment'), inputs: { replicas: 1 }, runId: 'i:execute' });
    expect(result.outcome).toBe('succeeded');
    expect(kestra.executions.at(-1)!.tenant).toBe('main');
  });

  it('sends basic auth, and wrong credentials are a failed start that says so', async () => {
    const refused = await executor({ kind: 'basic', username: 'admin@kestra.io', password: 'wrong' }).run({ entry: entry('scale-deployment'), inputs: {}, runId: 'r' });
    expect(refused).toMatchObject({ outcome: 'failed', failure: 'not-started' });
    expect(refused.output).toMatch(/HTTP 401/);
    expect(kestra.unauthorized).toBeGreaterThan(0);
  });

  it('a dry run passes the dry-run input when the flow has one, and is skipped, saying so, when it has none', async () => {
    const dry = await executor().dryRun({ entry: entry('scale-deployment', 'dry_run'), inputs: { replicas: 2 }, runId: 'd' });
    expect(dry.outcome).toBe('succeeded');
    expect(kestra.executions.at(-1)!.inputs).toMatchObject({ dry_run: 'true', replicas: '2' });
    const before = kestra.executions.length;
    const skipped = await executor().dryRun({ entry: entry('scale-deployment'), inputs: {}, runId: 'd2' });
    expect(skipped.outcome).toBe('skipped');
    expect(skipped.output).toMatch(/no dry-run input/);
    expect(kestra.executions.length).toBe(before);
  });

  it('an input posing as the dry-run switch is refused before anything starts', async () => {
    const before = kestra.executions.length;
    const result = await executor().run({ entry: entry('scale-deployment', 'dry_run'), inputs: { dry_run: 'true' }, runId: 'x' });
    expect(result).toMatchObject({ outcome: 'failed', failure: 'not-started' });
    expect(kestra.executions.length).toBe(before);
  });

  it('WARNING is not success', async () => {
    expect(await executor().run({ entry: entry('warns'), inputs: {}, runId: 'w' })).toMatchObject({ outcome: 'failed', failure: 'exit-status' });
  });

  it('a 200 with garbage, an execution id that is a path, or a state nobody knows is invalid-response, never success', async () => {
    const garbage = await executor().run({ entry: entry('garbage'), inputs: {}, runId: 'g' });
    expect(garbage).toMatchObject({ outcome: 'failed', failure: 'invalid-response' });
    expect(garbage.output).toMatch(/not JSON/);
    expect(await executor().run({ entry: entry('bad-id'), inputs: {}, runId: 'b' })).toMatchObject({ outcome: 'failed', failure: 'invalid-response' });
    const odd = await executor().run({ entry: entry('odd-state'), inputs: {}, runId: 'o' });
    expect(odd).toMatchObject({ outcome: 'failed', failure: 'invalid-response' });
    expect(odd.output).toMatch(/"EXPLODED"/);
  });

  it('an unknown flow is a failed start with Kestra’s 404', async () => {
    const result = await executor().run({ entry: entry('no-such-flow'), inputs: {}, runId: 'n' });
    expect(result).toMatchObject({ outcome: 'failed', failure: 'not-started' });
    expect(result.output).toMatch(/HTTP 404/);
  });
});
