import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';

/** What an approval is bound to: this action, these inputs, and the dry-run output the approver was shown. */
export function proposalHash(actionId: string, inputs: Record<string, unknown>, dryRunOutput: string): string {
  return `sha256:${createHash('sha256').update(canonicalJson({ action: actionId, inputs, dryRun: dryRunOutput })).digest('hex')}`;
}
