import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/eval/free-port.js';

/** The venv scripts/install-deps.sh --test installs Synapse into; SYNAPSE_PYTHON points elsewhere. */
const SYNAPSE_PYTHON = process.env.SYNAPSE_PYTHON ?? resolve(import.meta.dirname, '../../.tools/synapse/bin/python');
export const SERVER_NAME = 'localhost';

export interface MatrixUser {
  userId: string;
  accessToken: string;
}

export interface RunningSynapse {
  /** http://127.0.0.1:<port>; the same across stop()/start(). */
  url: string;
  /** Registers a user through the shared-secret admin API and answers its id and access token. */
  register(localpart: string, options?: { admin?: boolean }): Promise<MatrixUser>;
  /** Stops the homeserver but keeps its database, as an outage would. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same database. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

function homeserverConfig(dir: string, port: number, sharedSecret: string): string {
  const rate = (n: number) => `{ per_second: ${n}, burst_count: ${n} }`;
  // Loopback only, sqlite, no federation, no key servers (no network here), rate limits out of the way
  // of tests that send many events quickly.
  return `server_name: "${SERVER_NAME}"
pid_file: "${dir}/homeserver.pid"
listeners:
  - port: ${port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "${dir}/homeserver.db"
media_store_path: "${dir}/media"
signing_key_path: "${dir}/signing.key"
registration_shared_secret: "${sharedSecret}"
macaroon_secret_key: "${randomBytes(16).toString('hex')}"
form_secret: "${randomBytes(16).toString('hex')}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
url_preview_enabled: false
presence:
  enabled: false
federation_domain_whitelist: []
rc_message: ${rate(1000)}
rc_login:
  address: ${rate(1000)}
  account: ${rate(1000)}
  failed_attempts: ${rate(1000)}
rc_registration: ${rate(1000)}
rc_joins:
  local: ${rate(1000)}
  remote: ${rate(1000)}
rc_invites:
  per_room: ${rate(1000)}
  per_user: ${rate(1000)}
  per_issuer: ${rate(1000)}
rc_admin_redaction: ${rate(1000)}
`;
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_matrix/client/versions`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A real Synapse on a free loopback port with a generated config and a sqlite database, in its own
 * process group so a stop takes its workers too. One per test file: it takes a few seconds to start.
 */
export async function startSynapse(): Promise<RunningSynapse> {
  if (!existsSync(SYNAPSE_PYTHON)) throw new Error(`no Synapse at ${SYNAPSE_PYTHON}: run bash scripts/install-deps.sh --test`);
  const dir = mkdtempSync(join(tmpdir(), 'responder-synapse-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sharedSecret = randomBytes(16).toString('hex');
  const configPath = join(dir, 'homeserver.yaml');
  writeFileSync(configPath, homeserverConfig(dir, port, sharedSecret));
  const keys = spawnSync(SYNAPSE_PYTHON, ['-m', 'synapse.app.homeserver', '-c', configPath, '--generate-keys'], { cwd: dir, encoding: 'utf8' });
  if (keys.status !== 0) throw new Error(`synapse --generate-keys failed: ${keys.stderr}`);
  const logPath = join(dir, 'synapse.log');
  let child: ChildProcess | null = null;
  const onExit = () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  process.once('exit', onExit);

  async function start(): Promise<void> {
    const log = openSync(logPath, 'a');
    try {
      child = spawn(SYNAPSE_PYTHON, ['-m', 'synapse.app.homeserver', '-c', configPath], { cwd: dir, detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const started = child;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (started.exitCode !== null) throw new Error(`synapse exited (${started.exitCode}):\n${tail(logPath)}`);
      if (await ready(url)) return;
      await sleep(200);
    }
    throw new Error(`synapse not ready at ${url} within 60 s:\n${tail(logPath)}`);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = null;
    if (!running?.pid || running.exitCode !== null) return;
    const exited = new Promise<void>((done) => running.once('exit', () => done()));
    try {
      process.kill(-running.pid, 'SIGTERM');
    } catch {
      return;
    }
    const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
      try {
        process.kill(-running.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await exited;
    }
  }

  async function register(localpart: string, options: { admin?: boolean } = {}): Promise<MatrixUser> {
    const endpoint = `${url}/_synapse/admin/v1/register`;
    const { nonce } = (await (await fetch(endpoint)).json()) as { nonce: string };
    const password = randomBytes(12).toString('hex');
    const admin = options.admin ? 'admin' : 'notadmin';
    const mac = createHmac('sha1', sharedSecret).update(`${nonce}\0${localpart}\0${password}\0${admin}`).digest('hex');
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, username: localpart, password, admin: options.admin ?? false, mac }),
    });
    const body = (await response.json()) as { user_id?: string; access_token?: string; error?: string };
    if (!response.ok || !body.user_id || !body.access_token) throw new Error(`registering ${localpart} failed: ${response.status} ${JSON.stringify(body)}`);
    return { userId: body.user_id, accessToken: body.access_token };
  }

  await start();
  return {
    url,
    register,
    stop,
    start,
    async close() {
      await stop();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A second, real Matrix client: plain calls to the client-server API, as a person's phone would make them. */
export function matrixPerson(homeserverUrl: string, user: MatrixUser) {
  let txn = 0;
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${homeserverUrl}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${user.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }
  const send = async (roomId: string, type: string, content: unknown) =>
    (await call<{ event_id: string }>('PUT', `/rooms/${encodeURIComponent(roomId)}/send/${type}/t${Date.now()}-${(txn += 1)}`, content)).event_id;
  return {
    userId: user.userId,
    call,
    createRoom: async (invite: string[] = []) => (await call<{ room_id: string }>('POST', '/createRoom', { preset: 'private_chat', invite })).room_id,
    invite: (roomId: string, userId: string) => call('POST', `/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: userId }),
    join: (roomId: string) => call('POST', `/join/${encodeURIComponent(roomId)}`, {}),
    say: (roomId: string, body: string, threadRoot?: string) =>
      send(roomId, 'm.room.message', { msgtype: 'm.text', body, ...(threadRoot ? { 'm.relates_to': { rel_type: 'm.thread', event_id: threadRoot, is_falling_back: true, 'm.in_reply_to': { event_id: threadRoot } } } : {}) }),
    react: (roomId: string, eventId: string, key: string) => send(roomId, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key } }),
    redact: async (roomId: string, eventId: string) =>
      (await call<{ event_id: string }>('PUT', `/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(eventId)}/r${Date.now()}-${(txn += 1)}`, { reason: 'changed my mind' })).event_id,
    /** The room's timeline, oldest first (the last `limit` events). */
    async messages(roomId: string, limit = 100) {
      const page = await call<{ chunk: MatrixEvent[] }>('GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=${limit}`);
      return page.chunk.reverse();
    },
  };
}

export interface MatrixEvent {
  event_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown> & { body?: string; formatted_body?: string; 'm.relates_to'?: { rel_type?: string; event_id?: string } };
  unsigned?: Record<string, unknown>;
}

export type MatrixPerson = ReturnType<typeof matrixPerson>;
