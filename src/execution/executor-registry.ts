import { ExecutionError } from '../domain/errors.js';
import type { CatalogEntry, ExecutorKind } from '../remediation/catalog.js';
import type { Executor } from './executor.js';
import { createHttpExecutor, type HttpEndpoint } from './http-executor.js';
import { createKestraExecutor, type KestraAuth } from './kestra-executor.js';

export interface ExecutorRegistry {
  /** The executor the catalog entry names in its `executor` field. */
  forEntry(entry: CatalogEntry): Executor;
  kinds(): ExecutorKind[];
}

export function createExecutorRegistry(executors: Partial<Record<ExecutorKind, Executor>>): ExecutorRegistry {
  const kinds = Object.keys(executors) as ExecutorKind[];
  return {
    forEntry(entry) {
      const executor = executors[entry.executor];
      if (!executor) throw new ExecutionError('executor_missing', `remediation ${entry.id} needs the ${entry.executor} executor, which is not configured (configured: ${kinds.join(', ') || 'none'})`);
      return executor;
    },
    kinds: () => kinds,
  };
}

/** The slice of config.execution the remote executors read. */
export interface RemoteExecutorSettings {
  timeoutSeconds: number;
  kestra?: { url: string; tenant?: string; username?: string; password?: string; token?: string; pollIntervalMs: number; requestTimeoutMs: number };
  http: { endpoints: HttpEndpoint[] };
}

/** Kestra when execution.kestra is set, HTTP when endpoints are configured; ansible is always there. */
export function configuredRemoteExecutors(settings: RemoteExecutorSettings): Partial<Record<ExecutorKind, Executor>> {
  const executors: Partial<Record<ExecutorKind, Executor>> = {};
  const kestra = settings.kestra;
  if (kestra) {
    const auth: KestraAuth = kestra.token ? { kind: 'bearer', token: kestra.token } : kestra.username && kestra.password ? { kind: 'basic', username: kestra.username, password: kestra.password } : null;
    executors.kestra = createKestraExecutor({ url: kestra.url, tenant: kestra.tenant, auth, pollIntervalMs: kestra.pollIntervalMs, requestTimeoutMs: kestra.requestTimeoutMs, timeoutSeconds: settings.timeoutSeconds });
  }
  if (settings.http.endpoints.length > 0) executors.http = createHttpExecutor(settings.http.endpoints);
  return executors;
}
