import { SUBMIT_PROPOSAL_TOOL } from './agent-proposal.js';

const FENCED = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/g;
const TOOL_CALL_TAG = /<tool_call>([\s\S]*?)<\/tool_call>/g;
/** Answers larger than this are not searched: a proposal is a few hundred bytes. */
const MAX_TEXT = 64 * 1024;

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text.trim());
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A submit_proposal call written out as text, in the shapes small models use, or the proposal itself. */
function asProposal(object: Record<string, unknown>): unknown {
  const name = object.name ?? (object.function as Record<string, unknown> | undefined)?.name;
  if (name === SUBMIT_PROPOSAL_TOOL) {
    const args = object.arguments ?? object.parameters ?? object.input ?? (object.function as Record<string, unknown> | undefined)?.arguments;
    return typeof args === 'string' ? parseObject(args) : (args ?? null);
  }
  if (typeof name === 'string') return null;
  return 'diagnosis' in object || 'action' in object ? object : null;
}

function candidates(text: string): string[] {
  const found = [...text.matchAll(TOOL_CALL_TAG), ...text.matchAll(FENCED)].map((m) => m[1]!);
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first !== -1 && last > first) found.push(text.slice(first, last + 1));
  return found;
}

/**
 * The proposal a model wrote into its answer instead of calling submit_proposal: a ```json block, a
 * <tool_call> tag, or a bare object, either the proposal or a submit_proposal call around it. What comes
 * back is unvalidated input for checkAgentProposal, exactly as a tool call's input would be.
 */
export function proposalFromText(text: string): unknown {
  if (text.length > MAX_TEXT) return null;
  for (const candidate of candidates(text).reverse()) {
    const object = parseObject(candidate);
    const proposal = object ? asProposal(object) : null;
    if (proposal !== null && proposal !== undefined) return proposal;
  }
  return null;
}
