import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '../../src/config/process-environment.js';
import type { JsonObject } from '../../src/domain/json-value.js';
import { createAnsibleExecutor } from '../../src/execution/ansible-executor.js';
import { CONTRACT_TIMEOUT_SECONDS, describeExecutorContract, type ContractAction } from '../../src/execution/executor.contract.js';
import { createHttpExecutor, type HttpEndpoint } from '../../src/execution/http-executor.js';
import { createKestraExecutor } from '../../src/execution/kestra-executor.js';
import { freePort } from '../../src/eval/free-port.js';
import { loadCatalog, type CatalogEntry } from '../../src/remediation/catalog.js';
import { startFakeKestra } from '../../src/testing/fake-kestra.js';
import { closeServer, listenOnLoopback, readBody } from '../../src/testing/listen-on-loopback.js';

const ACTIONS: ContractAction[] = ['succeed', 'fail', 'nothing', 'hang'];
const INPUTS = `inputs:
  type: object
  properties:
    service: { type: string }
    note: { type: string }
`;

/** A catalog with the contract's four actions, each entry given its executor's own settings. */
function contractCatalog(dir: string, settings: (action: ContractAction) => string): Record<ContractAction, CatalogEntry> {
  for (const action of ACTIONS) {
    writeFileSync(
      join(dir, `contract-${action}.yaml`),
      `id: contract-${action}\ntitle: Contract ${action}\ntype: restart\nrisk: low\ntargetType: service\ntargetInput: service\ntargets: { service: service }\n${settings(action)}\n${INPUTS}`,
    );
  }
  const catalog = loadCatalog(dir, { inventoryHosts: ['localhost'] });
  return Object.fromEntries(ACTIONS.map((a) => [a, catalog.get(`contract-${a}`)!])) as Record<ContractAction, CatalogEntry>;
}

function processCommandLines(): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8'));
    } catch {
      // Exited while we looked.
    }
  }
  return lines;
}

describeExecutorContract('ansible-playbook (real)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'responder-contract-ansible-'));
  const received = join(dir, 'received.json');
  writeFileSync(join(dir, 'inventory.ini'), 'localhost ansible_connection=local ansible_python_interpreter=auto_silent\n');
  const playbooks: Record<ContractAction, string> = {
    succeed: `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        dest: ${received}\n        content: "{{ {'service': service, 'note': note} | to_json }}"\n`,
    fail: `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail: { msg: "{{ service }} would not restart" }\n`,
    nothing: `- hosts: databases\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: { msg: never }\n`,
    hang: `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: { argv: [sleep, "113"] }\n`,
  };
  for (const action of ACTIONS) writeFileSync(join(dir, `contract-${action}.yml`), playbooks[action]);
  const entries = contractCatalog(dir, (action) => `executor: ansible\nplaybook: contract-${action}.yml`);
  const options = { inventory: join(dir, 'inventory.ini'), timeoutSeconds: CONTRACT_TIMEOUT_SECONDS, inheritedEnv: inheritedEnvironment() };
  return {
    executor: createAnsibleExecutor({ ...options, binary: 'ansible-playbook' }),
    unreachable: createAnsibleExecutor({ ...options, binary: join(dir, 'no-such-ansible-playbook') }),
    entries,
    received: async () => (existsSync(received) ? (JSON.parse(readFileSync(received, 'utf8')) as JsonObject) : null),
    changed: async () => existsSync(received),
    stillWorking: async () => processCommandLines().some((line) => line.includes('sleep\u0000113')),
    reset: async () => rmSync(received, { force: true }),
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeExecutorContract('kestra (against a fake built from Kestra’s executions API)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'responder-contract-kestra-'));
  const auth = { kind: 'basic' as const, username: 'responder@example.org', password: 'k3stra:secret' };
  const kestra = await startFakeKestra({
    auth,
    flows: {
      'platform.remediation/contract-succeed': { states: ['RUNNING', 'SUCCESS'], outputs: (inputs) => ({ restarted: inputs.service ?? null }) },
      'platform.remediation/contract-fail': { states: ['RUNNING', 'FAILED'] },
      'platform.remediation/contract-nothing': { states: ['SKIPPED'] },
      'platform.remediation/contract-hang': { states: ['RUNNING'] },
    },
  });
  const entries = contractCatalog(dir, (action) => `executor: kestra\nkestra: { namespace: platform.remediation, flowId: contract-${action}${action === 'succeed' ? ', dryRunInput: dry_run' : ''} }`);
  const options = { auth, pollIntervalMs: 100, requestTimeoutMs: 2000, timeoutSeconds: CONTRACT_TIMEOUT_SECONDS };
  let since = 0;
  const realRuns = () => kestra.executions.slice(since).filter((e) => e.flowId === 'contract-succeed' && e.inputs.dry_run !== 'true');
  return {
    executor: createKestraExecutor({ ...options, url: kestra.url }),
    unreachable: createKestraExecutor({ ...options, url: `http://127.0.0.1:${await freePort()}` }),
    entries,
    received: async () => realRuns().at(-1)?.inputs ?? null,
    changed: async () => realRuns().length > 0,
    stillWorking: async () => kestra.executions.some((e) => e.flowId === 'contract-hang' && !e.killed),
    reset: async () => {
      since = kestra.executions.length;
    },
    close: async () => {
      await kestra.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeExecutorContract('http (a real HTTP endpoint)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'responder-contract-http-'));
  let received: JsonObject | null = null;
  let openHangs = 0;
  const server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      if (request.headers.authorization !== 'Bearer http-contract-token') {
        response.writeHead(401).end();
        return;
      }
      const body = JSON.parse(raw.toString('utf8')) as { action: string; dryRun: boolean; inputs: JsonObject };
      const json = (status: number, answer: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      if (body.action === 'contract-succeed') {
        if (!body.dryRun) received = body.inputs;
        json(200, { outcome: 'succeeded', output: body.dryRun ? 'would restart' : 'restarted', outputs: { restarted: body.inputs.service ?? null } });
      } else if (body.action === 'contract-fail') {
        json(500, { error: 'restart failed' });
      } else if (body.action === 'contract-nothing') {
        json(200, { outcome: 'nothing-done', output: 'no instance matched' });
      } else {
        // Holds the request open until the client gives up, like an endpoint stuck mid-action.
        openHangs += 1;
        response.on('close', () => (openHangs -= 1));
      }
    });
  });
  const url = await listenOnLoopback(server);
  const endpoint = (over: Partial<HttpEndpoint>): HttpEndpoint => ({
    name: 'contract',
    url: `${url}/act`,
    token: 'http-contract-token',
    header: 'Authorization',
    scheme: 'Bearer',
    timeoutMs: CONTRACT_TIMEOUT_SECONDS * 1000,
    dryRun: true,
    ...over,
  });
  const entries = contractCatalog(dir, () => 'executor: http\nhttp: { endpoint: contract }');
  return {
    executor: createHttpExecutor([endpoint({})]),
    unreachable: createHttpExecutor([endpoint({ url: `http://127.0.0.1:${await freePort()}/act` })]),
    entries,
    received: async () => received,
    changed: async () => received !== null,
    stillWorking: async () => openHangs > 0,
    reset: async () => {
      received = null;
    },
    close: async () => {
      await closeServer(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
