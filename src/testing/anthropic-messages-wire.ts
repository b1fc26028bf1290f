import { z } from 'zod';
import { describeZodError, forcedByChoice, prefixText, sseFrame, type LlmWire, type ScriptedMessage, type WireAnswer, type WireRequest } from './llm-wire.js';

const KNOWN_BLOCK_TYPES = new Set(['text', 'tool_use', 'tool_result']);

const TextBlockSchema = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const ToolUseBlockSchema = z
  .object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() })
  .passthrough();
const ToolResultBlockSchema = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough())]).optional(),
    is_error: z.boolean().optional(),
  })
  .passthrough();
// Images, documents, thinking and the like pass untouched, but a block claiming a known type must be well formed.
const OtherBlockSchema = z
  .object({ type: z.string().refine((type) => !KNOWN_BLOCK_TYPES.has(type), 'malformed content block') })
  .passthrough();
const ContentBlockSchema = z.union([TextBlockSchema, ToolUseBlockSchema, ToolResultBlockSchema, OtherBlockSchema]);
type ContentBlock = z.infer<typeof ContentBlockSchema>;

export const AnthropicMessagesRequestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    system: z.union([z.string(), z.array(TextBlockSchema)]).optional(),
    messages: z
      .array(
        z
          .object({
            // 'system' inside messages is the SDK's mid-conversation system message.
            role: z.enum(['user', 'assistant', 'system']),
            content: z.union([z.string(), z.array(ContentBlockSchema)]),
          })
          .passthrough(),
      )
      .min(1),
    tools: z
      .array(z.object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.unknown().optional() }).passthrough())
      .optional(),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().optional(),
  })
  .passthrough();
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequestSchema>;

function isText(block: ContentBlock): block is z.infer<typeof TextBlockSchema> {
  return block.type === 'text' && typeof block.text === 'string';
}

function blocksText(blocks: readonly ContentBlock[]): string {
  return blocks.filter(isText).map((block) => block.text).join('\n');
}

function toolResultText(content: z.infer<typeof ToolResultBlockSchema>['content']): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.flatMap((part) => (part.type === 'text' && part.text !== undefined ? [part.text] : [])).join('\n');
}

function toScriptedMessage(message: AnthropicMessagesRequest['messages'][number]): ScriptedMessage {
  const blocks = typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
  const toolCalls = blocks.flatMap((block) => {
    const parsed = ToolUseBlockSchema.safeParse(block);
    return parsed.success ? [{ id: parsed.data.id, name: parsed.data.name, input: parsed.data.input }] : [];
  });
  const toolResults = blocks.flatMap((block) => {
    const parsed = ToolResultBlockSchema.safeParse(block);
    if (!parsed.success) return [];
    return [{ toolCallId: parsed.data.tool_use_id, text: toolResultText(parsed.data.content), isError: parsed.data.is_error === true }];
  });
  // Anthropic carries tool results in a user message; one holding nothing else reads as a tool message,
  // as on the OpenAI wire, so that scripts can ask "was the last message a tool result" either way.
  const onlyToolResults = message.role === 'user' && toolResults.length > 0 && toolResults.length === blocks.length;
  return { role: onlyToolResults ? 'tool' : message.role, text: blocksText(blocks), toolCalls, toolResults };
}

function marked(block: unknown): boolean {
  return typeof block === 'object' && block !== null && 'cache_control' in block && block.cache_control !== undefined && block.cache_control !== null;
}

function forcedTool(choice: unknown, tools: WireRequest['tools']): string | null {
  const parsed = z.object({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() }).passthrough().safeParse(choice);
  if (!parsed.success) return null;
  if (parsed.data.type === 'any') return forcedByChoice('any', tools);
  return parsed.data.type === 'tool' && parsed.data.name ? parsed.data.name : null;
}

function toWireRequest(body: AnthropicMessagesRequest): WireRequest {
  const system = typeof body.system === 'string' ? body.system : blocksText(body.system ?? []);
  const tools = (body.tools ?? []).map((tool) => ({ name: tool.name, description: tool.description ?? '', inputSchema: tool.input_schema }));
  // Anthropic caches tools, then system, up to the last block marked cache_control; a whole-prefix mark is all Responder uses.
  const systemMarked = Array.isArray(body.system) && body.system.some(marked);
  const toolsMarked = (body.tools ?? []).some(marked);
  return {
    api: 'anthropic',
    model: body.model,
    system,
    messages: body.messages.map(toScriptedMessage),
    tools,
    toolChoice: body.tool_choice,
    forcedTool: forcedTool(body.tool_choice, tools),
    cachePrefix: systemMarked ? prefixText(system, tools) : toolsMarked ? prefixText('', tools) : null,
    maxTokens: body.max_tokens,
  };
}

/** Anthropic's input_tokens leaves out what was read from or written to the cache. */
function wireUsage(answer: WireAnswer, outputTokens: number) {
  const { inputTokens, cacheReadTokens, cacheWriteTokens } = answer.usage;
  return {
    input_tokens: inputTokens - cacheReadTokens - cacheWriteTokens,
    cache_read_input_tokens: cacheReadTokens,
    cache_creation_input_tokens: cacheWriteTokens,
    output_tokens: outputTokens,
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function contentBlocks(answer: WireAnswer): unknown[] {
  return [
    ...(answer.text === undefined ? [] : [{ type: 'text', text: answer.text }]),
    ...answer.toolCalls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.input })),
  ];
}

function stopReason(answer: WireAnswer): string {
  return answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn';
}

/** Anthropic's Messages API: POST /v1/messages, what createAnthropic({ baseURL: `${url}/v1` }) calls. */
export const anthropicMessagesWire: LlmWire = {
  api: 'anthropic',
  path: '/v1/messages',
  messageIdPrefix: 'msg_scripted_',
  toolCallIdPrefix: 'toolu_scripted_',
  parse(body) {
    const parsed = AnthropicMessagesRequestSchema.safeParse(body);
    if (!parsed.success) return { kind: 'invalid', message: describeZodError(parsed.error) };
    return { kind: 'parsed', request: toWireRequest(parsed.data), stream: parsed.data.stream === true, streamUsage: true };
  },
  errorBody(status, message) {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message } };
  },
  answerBody(answer) {
    return {
      id: answer.messageId,
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content: contentBlocks(answer),
      stop_reason: stopReason(answer),
      stop_sequence: null,
      usage: wireUsage(answer, answer.usage.outputTokens),
    };
  },
  answerEvents(answer) {
    const frames = [
      sseFrame(
        {
          type: 'message_start',
          message: {
            id: answer.messageId,
            type: 'message',
            role: 'assistant',
            model: answer.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: wireUsage(answer, 1),
          },
        },
        'message_start',
      ),
    ];
    contentBlocks(answer).forEach((block, index) => {
      const { type, text, input, ...rest } = block as { type: string; text?: string; input?: unknown };
      const start = type === 'text' ? { type, text: '' } : { type, ...rest, input: {} };
      const delta = type === 'text' ? { type: 'text_delta', text } : { type: 'input_json_delta', partial_json: JSON.stringify(input) };
      frames.push(sseFrame({ type: 'content_block_start', index, content_block: start }, 'content_block_start'));
      frames.push(sseFrame({ type: 'content_block_delta', index, delta }, 'content_block_delta'));
      frames.push(sseFrame({ type: 'content_block_stop', index }, 'content_block_stop'));
    });
    frames.push(
      sseFrame(
        { type: 'message_delta', delta: { stop_reason: stopReason(answer), stop_sequence: null }, usage: { output_tokens: answer.usage.outputTokens } },
        'message_delta',
      ),
      sseFrame({ type: 'message_stop' }, 'message_stop'),
    );
    return frames;
  },
};
