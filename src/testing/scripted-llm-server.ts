import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { anthropicMessagesWire } from './anthropic-messages-wire.js';
import { closeServer, listenOnLoopback, readBody } from './listen-on-loopback.js';
import { estimateTokens, promptText, type LlmWire, type ScriptedRequest, type WireAnswer } from './llm-wire.js';
import { openaiChatWire } from './openai-chat-wire.js';

// The request shape lives with the wires that produce it; tests import it from here.
export type { ScriptedMessage, ScriptedRequest } from './llm-wire.js';

export interface ScriptedToolCall {
  name: string;
  input: Record<string, unknown>;
}

export type ScriptedTurn =
  | { kind: 'tool-calls'; calls: ScriptedToolCall[]; text?: string }
  | { kind: 'text'; text: string }
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string> }
  /** Never answers; the client must time out or abort. */
  | { kind: 'hang' };

/** `index` is the request's 0-based position in `requests`: how many well-formed requests came before it. */
export type Script = (request: ScriptedRequest, index: number) => ScriptedTurn | Promise<ScriptedTurn>;

/**
 * Ways real servers and small models differ from the APIs' documents, seen with llama.cpp's llama-server
 * and a 0.5B model, so tests can meet them.
 */
export interface ScriptedQuirks {
  /** As llama-server: a tool_choice naming one function (an object) is refused and read as "auto". */
  objectToolChoiceIgnored?: boolean;
  /** As a model whose tool-call template the server does not parse: each call comes back as a ```json block in the text. */
  toolCallsAsText?: boolean;
  /** As a small model: submit_proposal's evidence becomes one item that cites nothing, confidence 1. */
  emptyEvidence?: boolean;
}

export interface ScriptedLlmServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** For createAnthropic({ baseURL }). */
  anthropicBaseUrl: string;
  /** For createOpenAICompatible({ baseURL }). */
  openaiBaseUrl: string;
  /** Every well-formed request, in arrival order; malformed ones are answered 400 and not kept. */
  requests: ScriptedRequest[];
  setScript(script: Script): void;
  setQuirks(quirks: ScriptedQuirks): void;
  close(): Promise<void>;
}

function applyQuirks(request: ScriptedRequest, quirks: ScriptedQuirks): ScriptedRequest {
  const objectChoice = typeof request.toolChoice === 'object' && request.toolChoice !== null;
  if (!quirks.objectToolChoiceIgnored || request.api !== 'openai' || !objectChoice) return request;
  return { ...request, toolChoice: 'auto', forcedTool: null };
}

function quirkyTurn(turn: ScriptedTurn, quirks: ScriptedQuirks): ScriptedTurn {
  if (turn.kind !== 'tool-calls') return turn;
  const calls = quirks.emptyEvidence
    ? turn.calls.map((call) =>
        call.name === 'submit_proposal' ? { ...call, input: { ...call.input, evidence: [{ source: 'None', summary: 'No evidence provided.' }], confidence: 1 } } : call,
      )
    : turn.calls;
  if (!quirks.toolCallsAsText) return { ...turn, calls };
  const written = calls.map((call) => `\`\`\`json\n${JSON.stringify({ name: call.name, arguments: call.input })}\n\`\`\``);
  return { kind: 'text', text: [turn.text ?? '', ...written].filter(Boolean).join('\n') };
}

/**
 * Turn i answers a request whose conversation already holds i assistant messages, so each conversation
 * replays the list from the start. Past the end: a text turn saying the script is exhausted. A retried
 * request gets the same turn again; use scriptInRequestOrder to fail once and then succeed.
 */
export function scriptFromTurns(turns: readonly ScriptedTurn[]): Script {
  return (request) => {
    const answered = request.messages.filter((message) => message.role === 'assistant').length;
    return turns[answered] ?? exhausted(answered, turns.length);
  };
}

/** Request n (counted over the whole server) gets turn n, whatever its conversation: for retries and failover. */
export function scriptInRequestOrder(turns: readonly ScriptedTurn[]): Script {
  return (_request, index) => turns[index] ?? exhausted(index, turns.length);
}

function exhausted(position: number, length: number): ScriptedTurn {
  return { kind: 'text', text: `The scripted LLM has no turn ${position}: its script holds ${length} turn(s).` };
}

/** Every piece of text the model was shown in a request (system, user, tool results), joined; for "was this evidence shown" checks. */
export function shownText(request: ScriptedRequest): string {
  const parts = [request.system];
  for (const message of request.messages) {
    if (message.role !== 'assistant') parts.push(message.text);
    for (const result of message.toolResults) parts.push(result.text);
  }
  return parts.filter((part) => part.length > 0).join('\n');
}

const WIRES: readonly LlmWire[] = [anthropicMessagesWire, openaiChatWire];

const DEFAULT_ERROR_MESSAGES: Record<number, string> = {
  429: 'scripted rate limit: slow down',
  500: 'scripted internal server error',
  503: 'scripted service unavailable',
  529: 'scripted overload',
};

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
  );
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...headers, 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendEvents(response: ServerResponse, frames: readonly string[]): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const frame of frames) response.write(frame);
  response.end();
}

/**
 * An HTTP server that answers as Anthropic's Messages API and OpenAI's Chat Completions do, turn by turn
 * from a script, so tests run the real provider SDKs over a real socket. Answers JSON, or server-sent
 * events when the request asks to stream. Token usage is estimated as a quarter of the characters; a
 * prompt whose cacheable prefix (tools and system prompt) was seen before reports that prefix as cached.
 */
export async function startScriptedLlmServer(script: Script = scriptFromTurns([]), options: { quirks?: ScriptedQuirks } = {}): Promise<ScriptedLlmServer> {
  let current = script;
  let quirks: ScriptedQuirks = { ...options.quirks };
  const requests: ScriptedRequest[] = [];
  // Prompt prefixes seen so far: a request starting with one reads it from the "cache".
  const cached = new Set<string>();
  // A per-server tag keeps ids unique even when a conversation moves between two servers.
  const tag = randomBytes(3).toString('hex');
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}${tag}_${(counter += 1)}`;

  function cacheUsage(prefix: string | null): { cacheReadTokens: number; cacheWriteTokens: number } {
    if (prefix === null || prefix.length === 0) return { cacheReadTokens: 0, cacheWriteTokens: 0 };
    if (cached.has(prefix)) return { cacheReadTokens: estimateTokens(prefix), cacheWriteTokens: 0 };
    cached.add(prefix);
    return { cacheReadTokens: 0, cacheWriteTokens: estimateTokens(prefix) };
  }

  async function answer(wire: LlmWire, httpRequest: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(httpRequest);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      sendJson(response, 400, wire.errorBody(400, `request body is not valid JSON: ${(error as Error).message}`));
      return;
    }
    const parsed = wire.parse(json);
    if (parsed.kind === 'invalid') {
      sendJson(response, 400, wire.errorBody(400, `request does not match the ${wire.path} schema: ${parsed.message}`));
      return;
    }
    const request = applyQuirks({ ...parsed.request, headers: flattenHeaders(httpRequest), bytes: body.length, raw: json }, quirks);
    const index = requests.length;
    requests.push(request);

    let turn: ScriptedTurn;
    try {
      turn = quirkyTurn(await current(request, index), quirks);
    } catch (error) {
      sendJson(response, 500, wire.errorBody(500, `the test script threw on request ${index}: ${(error as Error).message}`));
      return;
    }
    if (turn.kind === 'hang') return;
    if (turn.kind === 'error') {
      const message = turn.message ?? DEFAULT_ERROR_MESSAGES[turn.status] ?? `scripted error (HTTP ${turn.status})`;
      sendJson(response, turn.status, wire.errorBody(turn.status, message), turn.headers);
      return;
    }
    if (turn.kind === 'tool-calls' && turn.calls.length === 0) {
      sendJson(response, 500, wire.errorBody(500, `the test script gave a tool-calls turn without calls on request ${index}`));
      return;
    }
    const calls = turn.kind === 'tool-calls' ? turn.calls : [];
    const toolCalls = calls.map((call) => ({ id: nextId(wire.toolCallIdPrefix), name: call.name, input: call.input }));
    const output = (turn.text ?? '') + toolCalls.map((call) => call.name + JSON.stringify(call.input)).join('');
    const reply: WireAnswer = {
      model: request.model,
      messageId: nextId(wire.messageIdPrefix),
      text: turn.text,
      toolCalls,
      usage: { inputTokens: estimateTokens(promptText(request)), outputTokens: estimateTokens(output), ...cacheUsage(request.cachePrefix) },
      streamUsage: parsed.streamUsage,
    };
    if (parsed.stream) sendEvents(response, wire.answerEvents(reply));
    else sendJson(response, 200, wire.answerBody(reply));
  }

  const server = createServer((httpRequest, response) => {
    const path = new URL(httpRequest.url ?? '/', 'http://localhost').pathname;
    const wire = WIRES.find((candidate) => candidate.path === path);
    if (wire === undefined) {
      sendJson(response, 404, { error: { message: `the scripted LLM server has no route ${httpRequest.method} ${path}` } });
      return;
    }
    if (httpRequest.method !== 'POST') {
      sendJson(response, 405, wire.errorBody(405, `${path} takes POST, not ${httpRequest.method}`));
      return;
    }
    answer(wire, httpRequest, response).catch((error: unknown) => {
      // A client that gave up mid-request leaves nothing to answer.
      if (response.headersSent || response.destroyed) return;
      sendJson(response, 500, wire.errorBody(500, `scripted LLM server failed: ${(error as Error).message}`));
    });
  });

  const url = await listenOnLoopback(server);
  let closing: Promise<void> | undefined;
  return {
    url,
    anthropicBaseUrl: `${url}/v1`,
    openaiBaseUrl: `${url}/v1`,
    requests,
    setScript(next) {
      current = next;
    },
    setQuirks(next) {
      quirks = { ...next };
    },
    close() {
      closing ??= closeServer(server);
      return closing;
    },
  };
}
