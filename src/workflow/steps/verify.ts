import type { Incident } from '../../domain/incident-record.js';
import type { Verification } from '../../domain/verification.js';
import { verifyConditionCleared } from '../../verification/verify-condition-cleared.js';
import { step } from '../durable-runtime.js';
import type { WorkflowDeps } from '../workflow-deps.js';

/** Whether the alert condition cleared after the remediation, within the verification deadline. */
export function verifyStep(d: WorkflowDeps, incident: Incident): Promise<Verification> {
  return step('verify', () =>
    d.timed('verify', () =>
      verifyConditionCleared({
        prometheus: d.prometheus,
        expression: incident.expression,
        timeoutSeconds: d.settings.verificationTimeoutSeconds,
        intervalSeconds: d.settings.verificationIntervalSeconds,
      }),
    ),
  );
}
