import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { ResponderError } from '../domain/errors.js';

/** Where the built-in server reports the backend bytes behind a result; the toolbox reads it back. */
export const RAW_BYTES_META = 'responder/rawBytes';

/**
 * Title, description and annotations of a read-only tool. The title goes in the annotations too, where
 * mcp-grafana puts it. The tools read only from the one configured backend: not an open world.
 */
export function readOnlyTool(title: string, description: string): { title: string; description: string; annotations: ToolAnnotations } {
  return { title, description, annotations: { title, readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false } };
}

export interface ToolOutput {
  text: string;
  /** Bytes of the backend HTTP responses the text was made from. */
  rawBytes: number;
}

/** What to tell the model after an error with a given code, so it can fix the call instead of repeating it. */
export type ErrorHints = Partial<Record<string, string>>;

const COMMON_HINTS: ErrorHints = {
  invalid_time: 'Fix the time argument and call again.',
  invalid_argument: 'Fix the argument and call again.',
};

function failure(error: unknown, hints: ErrorHints): CallToolResult {
  const code = error instanceof ResponderError ? error.code : 'internal_error';
  const message = error instanceof Error ? error.message : String(error);
  const hint = hints[code] ?? COMMON_HINTS[code];
  return { isError: true, content: [{ type: 'text', text: hint ? `${message}\nHint: ${hint}` : message }] };
}

/**
 * Runs one tool call. A backend or query error becomes an `isError` result the model can read and act
 * on, never a protocol error: the model wrote the query, so it should see what was wrong with it.
 */
export async function runTool(hints: ErrorHints, work: () => Promise<ToolOutput>): Promise<CallToolResult> {
  try {
    const { text, rawBytes } = await work();
    return { content: [{ type: 'text', text }], _meta: { [RAW_BYTES_META]: rawBytes } };
  } catch (error) {
    return failure(error, hints);
  }
}

/** "12 more not shown" style tail for capped lists. */
export function omitted(count: number, what: string, advice: string): string[] {
  return count > 0 ? [`(${count} more ${what} not shown; ${advice})`] : [];
}
