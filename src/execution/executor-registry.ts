import { ExecutionError } from '../domain/errors.js';
import type { CatalogEntry, ExecutorKind } from '../remediation/catalog.js';
import type { Executor } from './executor.js';

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
