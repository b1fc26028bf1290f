import { z } from 'zod';
import { describeZodError, forcedByChoice, prefixText, sseFrame, type LlmWire, type ScriptedMessage, type WireAnswer, type WireRequest } from './llm-wire.js';

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
// Images, audio and files pass untouched, but a part claiming to be text must carry text.
const OtherPartSchema = z.object({ type: z.string().refine((type) => type !== 'text', 'malformed text part') }).passthrough();
const ContentSchema = z.union([z.string(), z.array(z.union([TextPartSchema, OtherPartSchema]))]);
type Content = z.infer<typeof ContentSchema>;

const ToolCallSchema = z
  .object({
    id: z.string().min(1),
    type: z.literal('function'),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).passthrough(),
  })
  .passthrough();

const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: ContentSchema }).passthrough(),
  z.object({ role: z.literal('developer'), content: ContentSchema }).passthrough(),
  z.object({ role: z.literal('user'), content: ContentSchema }).passthrough(),
  z.object({ role: z.literal('assistant'), content: ContentSchema.nullish(), tool_calls: z.array(ToolCallSchema).optional() }).passthrough(),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: ContentSchema }).passthrough(),
]);
type Message = z.infer<typeof MessageSchema>;

export const OpenAiChatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(MessageSchema).min(1),
    tools: z
      .array(
        z
          .object({
            type: z.literal('function'),
            function: z.object({ name: z.string().min(1), description: z.string().optional(), parameters: z.unknown().optional() }).passthrough(),
          })
          .passthrough(),
      )
      .optional(),
    tool_choice: z.unknown().optional(),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
  })
  .passthrough();
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequestSchema>;

function contentText(content: Content | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.flatMap((part) => (part.type === 'text' && typeof part.text === 'string' ? [part.text] : [])).join('\n');
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toScriptedMessage(message: Message): ScriptedMessage {
  const role = message.role === 'developer' ? 'system' : message.role;
  const toolCalls =
    message.role === 'assistant'
      ? (message.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) }))
      : [];
  // Chat Completions has no error flag on a tool result: the SDK sends a failed tool's message as plain content.
  const toolResults = message.role === 'tool' ? [{ toolCallId: message.tool_call_id, text: contentText(message.content), isError: false }] : [];
  return { role, text: message.role === 'tool' ? '' : contentText(message.content), toolCalls, toolResults };
}

function forcedTool(choice: unknown, tools: WireRequest['tools']): string | null {
  if (choice === 'required') return forcedByChoice('any', tools);
  const named = z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }).safeParse(choice);
  return forcedByChoice(named.success ? { name: named.data.function.name } : 'none', tools);
}

function toWireRequest(body: OpenAiChatRequest): WireRequest {
  const firstOther = body.messages.findIndex((message) => message.role !== 'system' && message.role !== 'developer');
  const leading = firstOther === -1 ? body.messages.length : firstOther;
  // Leading system messages are the system prompt, as Anthropic's top-level `system` is.
  const system = body.messages.slice(0, leading).map((message) => contentText(message.content)).join('\n');
  const tools = (body.tools ?? []).map((tool) => ({
    name: tool.function.name,
    description: tool.function.description ?? '',
    inputSchema: tool.function.parameters,
  }));
  return {
    api: 'openai',
    model: body.model,
    system,
    messages: body.messages.slice(leading).map(toScriptedMessage),
    tools,
    toolChoice: body.tool_choice,
    forcedTool: forcedTool(body.tool_choice, tools),
    // OpenAI caches the longest prompt prefix seen before without being asked.
    cachePrefix: prefixText(system, tools),
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
  };
}

const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

function finishReason(answer: WireAnswer): string {
  return answer.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

function wireToolCalls(answer: WireAnswer) {
  return answer.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.input) },
  }));
}

function wireUsage(answer: WireAnswer) {
  const { inputTokens, outputTokens, cacheReadTokens } = answer.usage;
  // prompt_tokens counts the cached part too; the details say how much of it was cached.
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens, prompt_tokens_details: { cached_tokens: cacheReadTokens } };
}

/** OpenAI Chat Completions: POST /v1/chat/completions, what createOpenAICompatible({ baseURL: `${url}/v1` }) calls. */
export const openaiChatWire: LlmWire = {
  api: 'openai',
  path: '/v1/chat/completions',
  messageIdPrefix: 'chatcmpl-scripted-',
  toolCallIdPrefix: 'call_scripted_',
  parse(body) {
    const parsed = OpenAiChatRequestSchema.safeParse(body);
    if (!parsed.success) return { kind: 'invalid', message: describeZodError(parsed.error) };
    const streamUsage = parsed.data.stream_options?.include_usage === true;
    return { kind: 'parsed', request: toWireRequest(parsed.data), stream: parsed.data.stream === true, streamUsage };
  },
  errorBody(status, message) {
    const known = ERRORS[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
    return { error: { message, type: known.type, param: null, code: known.code } };
  },
  answerBody(answer) {
    const toolCalls = wireToolCalls(answer);
    return {
      id: answer.messageId,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: answer.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer.text ?? null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
          finish_reason: finishReason(answer),
        },
      ],
      usage: wireUsage(answer),
    };
  },
  answerEvents(answer) {
    const base = { id: answer.messageId, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: answer.model };
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      sseFrame({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
    const frames = [chunk({ role: 'assistant', content: '' }, null)];
    if (answer.text !== undefined) frames.push(chunk({ content: answer.text }, null));
    wireToolCalls(answer).forEach((call, index) => frames.push(chunk({ tool_calls: [{ index, ...call }] }, null)));
    frames.push(chunk({}, finishReason(answer)));
    // As OpenAI does: usage comes in a last, choiceless chunk, and only when stream_options asks for it.
    if (answer.streamUsage) frames.push(sseFrame({ ...base, choices: [], usage: wireUsage(answer) }));
    frames.push(sseFrame('[DONE]'));
    return frames;
  },
};
