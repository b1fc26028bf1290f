import type { Incident } from '../../domain/incident-record.js';
import type { Verification } from '../../domain/verification.js';
import type { CatalogEntry } from '../../remediation/catalog.js';
import { catalogVerificationQuery } from '../../remediation/verification-query.js';
import { verifyConditionCleared } from '../../verification/verify-condition-cleared.js';
import { step } from '../durable-runtime.js';
import type { WorkflowDeps } from '../workflow-deps.js';

/**
 * Whether the problem cleared after the remediation, within the verification deadline: the alert rule's
 * trusted expression when there is one, else the catalog entry's own query for the inputs that ran.
 */
export function verifyStep(d: WorkflowDeps, incident: Incident, ran: { entry: CatalogEntry; inputs: Record<string, unknown> }): Promise<Verification> {
  return step('verify', () =>
    d.timed('verify', () =>
      verifyConditionCleared({
        prometheus: d.prometheus,
        expression: incident.expression ?? catalogVerificationQuery(ran.entry, ran.inputs),
        timeoutSeconds: d.settings.verificationTimeoutSeconds,
        intervalSeconds: d.settings.verificationIntervalSeconds,
      }),
    ),
  );
}
