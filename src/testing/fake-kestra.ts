import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './listen-on-loopback.js';

/**
 * What a flow of the fake does with an execution: the states it passes through, one per poll, ending in the
 * last one (RUNNING forever when the last is RUNNING, until killed), and the flow outputs it ends with.
 */
export interface FakeFlowScript {
  states: string[];
  outputs?: (inputs: Record<string, string>) => Record<string, unknown>;
  /** Replaces the whole answer to the start request: a Kestra behind a broken proxy. */
  startAnswer?: { status: number; body: string };
}

export interface FakeExecution {
  id: string;
  namespace: string;
  flowId: string;
  tenant: string | null;
  /** The form fields exactly as received. */
  inputs: Record<string, string>;
  /** The request's query string and content type, for tests that check the wire shape. */
  query: string;
  contentType: string;
  killed: boolean;
  polls: number;
}

export interface FakeKestraOptions {
  flows: Record<string, FakeFlowScript>;
  auth?: { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };
}

export interface FakeKestra {
  url: string;
  executions: FakeExecution[];
  /** Requests refused for their credentials. */
  unauthorized: number;
  stop(): Promise<void>;
}

const FLOW_PATH = /^\/api\/v1\/(?:([A-Za-z0-9_-]+)\/)?executions\/([^/]+)\/([^/]+)$/;
const EXECUTION_PATH = /^\/api\/v1\/(?:[A-Za-z0-9_-]+\/)?executions\/([^/]+)(\/kill)?$/;

/**
 * A Kestra that cannot run here, from its documented executions API: POST /api/v1/[<tenant>/]executions/
 * {namespace}/{flowId} with multipart/form-data inputs answers the Execution (id, namespace, flowId,
 * state.current, outputs, taskRunList); GET /api/v1/executions/{id} answers it again; DELETE
 * /api/v1/executions/{id}/kill answers 202 and the execution ends KILLED. Basic or bearer auth, 401 otherwise.
 * Flows are keyed "<namespace>/<flowId>"; an unknown flow is 404, as in Kestra.
 */
export async function startFakeKestra(options: FakeKestraOptions): Promise<FakeKestra> {
  const executions: FakeExecution[] = [];
  const scripts = new Map<string, FakeFlowScript>();
  const fake: FakeKestra = { url: '', executions, unauthorized: 0, stop: () => closeServer(server) };

  const authorized = (request: IncomingMessage) => {
    if (!options.auth) return true;
    const header = request.headers.authorization ?? '';
    if (options.auth.kind === 'bearer') return header === `Bearer ${options.auth.token}`;
    return header === `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  };

  const view = (execution: FakeExecution) => {
    const script = scripts.get(execution.id)!;
    const index = Math.min(Math.max(execution.polls - 1, 0), script.states.length - 1);
    const current = execution.killed ? 'KILLED' : script.states[index]!;
    const ended = !['CREATED', 'QUEUED', 'RUNNING', 'KILLING'].includes(current);
    return {
      id: execution.id,
      namespace: execution.namespace,
      flowId: execution.flowId,
      flowRevision: 1,
      state: { current, histories: [{ state: 'CREATED', date: new Date().toISOString() }] },
      inputs: execution.inputs,
      outputs: ended && current === 'SUCCESS' ? (script.outputs?.(execution.inputs) ?? {}) : undefined,
      taskRunList: [{ id: `${execution.id}-t1`, taskId: 'remediate', state: { current } }],
    };
  };

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://fake-kestra');
      if (!authorized(request)) {
        fake.unauthorized += 1;
        send(response, 401, { message: 'Unauthorized' });
        return;
      }
      const start = request.method === 'POST' ? FLOW_PATH.exec(url.pathname) : null;
      if (start) {
        const [, tenant, namespace, flowId] = start.map((part) => (part === undefined ? part : decodeURIComponent(part)));
        const script = options.flows[`${namespace}/${flowId}`];
        if (!script) {
          send(response, 404, { message: `Flow not found: ${namespace}.${flowId}` });
          return;
        }
        const contentType = request.headers['content-type'] ?? '';
        const body = await readBody(request);
        const inputs: Record<string, string> = {};
        if (contentType.startsWith('multipart/form-data')) {
          const form = await new Request('http://fake-kestra/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }).formData();
          for (const [name, value] of form.entries()) inputs[name] = typeof value === 'string' ? value : await value.text();
        }
        const execution: FakeExecution = { id: randomBytes(11).toString('base64url'), namespace: namespace!, flowId: flowId!, tenant: tenant ?? null, inputs, query: url.search, contentType, killed: false, polls: 0 };
        executions.push(execution);
        scripts.set(execution.id, script);
        if (script.startAnswer) {
          response.writeHead(script.startAnswer.status, { 'content-type': 'application/json' }).end(script.startAnswer.body);
          return;
        }
        send(response, 200, { ...view(execution), state: { current: 'CREATED' }, outputs: undefined });
        return;
      }
      const match = EXECUTION_PATH.exec(url.pathname);
      const execution = match ? executions.find((e) => e.id === decodeURIComponent(match[1]!)) : undefined;
      if (!match || !execution) {
        send(response, 404, { message: 'Not found' });
        return;
      }
      if (request.method === 'DELETE' && match[2]) {
        execution.killed = true;
        response.writeHead(202).end();
        return;
      }
      if (request.method === 'GET' && !match[2]) {
        execution.polls += 1;
        send(response, 200, view(execution));
        return;
      }
      send(response, 405, { message: 'Method not allowed' });
    })().catch((error: unknown) => send(response, 500, { message: (error as Error).message }));
  });
  fake.url = await listenOnLoopback(server);
  return fake;
}
