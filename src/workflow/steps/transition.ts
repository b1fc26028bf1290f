import type { TransitionRequest } from '../../store/incidents.js';
import { step } from '../durable-runtime.js';
import { DB_RETRIES, type WorkflowDeps } from '../workflow-deps.js';

/** A state change as a named step; false means someone else moved the incident first. */
export function transition(d: WorkflowDeps, incidentId: string, name: string, request: TransitionRequest): Promise<boolean> {
  return step(name, () => d.incidents.transition(incidentId, request), { retries: DB_RETRIES });
}
