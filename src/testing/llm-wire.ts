import type { z } from 'zod';

/**
 * One message of the conversation, the same shape whichever API carried it. An Anthropic user message
 * holding only tool results has role 'tool'. Chat Completions has no error flag on tool results, so
 * isError is always false on the OpenAI wire.
 */
export interface ScriptedMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  text: string;
  toolCalls: { id: string; name: string; input: unknown }[];
  toolResults: { toolCallId: string; text: string; isError: boolean }[];
}

export interface ScriptedRequest {
  api: 'anthropic' | 'openai';
  model: string;
  /** Anthropic's top-level system prompt, or the leading system messages on the OpenAI wire. */
  system: string;
  messages: ScriptedMessage[];
  tools: { name: string; description: string; inputSchema: unknown }[];
  toolChoice: unknown;
  /** The tool the request forces the model to call, '(any)' when any of several, null when none. */
  forcedTool: string | null;
  /**
   * The start of the prompt the provider would cache: on Anthropic the tools and system blocks up to a
   * cache_control mark (null without one), on OpenAI always the tools and system prompt.
   */
  cachePrefix: string | null;
  maxTokens: number | undefined;
  /** Lower-case names, repeated headers joined with ", ". */
  headers: Record<string, string>;
  bytes: number;
  raw: unknown;
}

/** What a wire reads from a request body; the server adds what comes from HTTP (headers, size, raw body). */
export type WireRequest = Omit<ScriptedRequest, 'headers' | 'bytes' | 'raw'>;

export type WireParse =
  | { kind: 'parsed'; request: WireRequest; stream: boolean; streamUsage: boolean }
  | { kind: 'invalid'; message: string };

/** A model message ready to be put on the wire, with the ids and token counts the server chose. */
export interface WireAnswer {
  model: string;
  messageId: string;
  text: string | undefined;
  toolCalls: { id: string; name: string; input: Record<string, unknown> }[];
  /** inputTokens counts the whole prompt; cacheRead and cacheWrite are the parts read from or written to the cache. */
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
  /** The client asked for usage on a stream (OpenAI sends it only when asked). */
  streamUsage: boolean;
}

/** One provider API as the scripted server speaks it. */
export interface LlmWire {
  readonly api: ScriptedRequest['api'];
  readonly path: string;
  readonly messageIdPrefix: string;
  readonly toolCallIdPrefix: string;
  parse(body: unknown): WireParse;
  errorBody(status: number, message: string): unknown;
  answerBody(answer: WireAnswer): unknown;
  /** Server-sent event frames in order, each ending in a blank line. */
  answerEvents(answer: WireAnswer): string[];
}

/**
 * An estimate, a quarter of the characters, so that tests can watch usage flow through the SDK and
 * budgets; no tokenizer would give these numbers.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Everything the prompt holds, tool definitions included, as the basis of the input token estimate. */
export function promptText(request: WireRequest): string {
  const parts: string[] = [request.system];
  for (const message of request.messages) {
    parts.push(message.text);
    for (const call of message.toolCalls) parts.push(call.name, JSON.stringify(call.input) ?? '');
    for (const result of message.toolResults) parts.push(result.text);
  }
  for (const tool of request.tools) parts.push(tool.name, tool.description, JSON.stringify(tool.inputSchema) ?? '');
  return parts.join('');
}

/** The tools and system prompt as text, the part of a prompt a provider caches. */
export function prefixText(system: string, tools: WireRequest['tools']): string {
  return [system, ...tools.map((tool) => tool.name + tool.description + (JSON.stringify(tool.inputSchema) ?? ''))].join('');
}

/** One tool offered, with a choice that forces some tool: that tool. */
export function forcedByChoice(kind: 'none' | 'any' | { name: string }, tools: WireRequest['tools']): string | null {
  if (kind === 'none') return null;
  if (kind === 'any') return tools.length === 1 ? tools[0]!.name : '(any)';
  return kind.name;
}

export function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}

export function sseFrame(data: unknown, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
