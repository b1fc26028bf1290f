import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  scriptFromTurns,
  scriptInRequestOrder,
  shownText,
  startScriptedLlmServer,
  type ScriptedLlmServer,
} from './scripted-llm-server.js';

const providers = [
  {
    api: 'anthropic' as const,
    model: (server: ScriptedLlmServer): LanguageModel =>
      createAnthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'test-key' })('claude-sonnet-4-5'),
    apiKeyHeader: ['x-api-key', 'test-key'],
  },
  {
    api: 'openai' as const,
    model: (server: ScriptedLlmServer): LanguageModel =>
      createOpenAICompatible({ name: 'scripted', baseURL: server.openaiBaseUrl, apiKey: 'test-key', includeUsage: true })('gpt-scripted'),
    apiKeyHeader: ['authorization', 'Bearer test-key'],
  },
];

const diskTools = {
  read_disk_usage: tool({
    description: 'Disk usage of a host',
    inputSchema: z.object({ host: z.string() }),
    execute: async ({ host }) => ({ host, usedPercent: 97, mount: '/var/log' }),
  }),
  restart_service: tool({
    description: 'Restarts a service',
    inputSchema: jsonSchema<{ service: string }>({ type: 'object', properties: { service: { type: 'string' } }, required: ['service'] }),
    execute: async (): Promise<string> => {
      throw new Error('restart refused: read-only investigation');
    },
  }),
};

const investigation = [
  { kind: 'tool-calls' as const, text: 'Checking the disk.', calls: [{ name: 'read_disk_usage', input: { host: 'web-1' } }] },
  { kind: 'text' as const, text: 'The /var/log mount on web-1 is 97% full; rotate logs.' },
];

describe.each(providers)('scripted LLM server on the $api wire', ({ api, model, apiKeyHeader }) => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await startScriptedLlmServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('runs a two-step tool loop and shows the tool result in the second request', async () => {
    server.setScript(scriptFromTurns(investigation));

    const result = await generateText({
      model: model(server),
      system: 'You investigate alerts.',
      prompt: 'Alert: DiskFull on web-1',
      tools: diskTools,
      maxOutputTokens: 1024,
      stopWhen: stepCountIs(4),
    });

    expect(result.text).toBe('The /var/log mount on web-1 is 97% full; rotate logs.');
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolResults[0]?.output).toEqual({ host: 'web-1', usedPercent: 97, mount: '/var/log' });
    expect(server.requests).toHaveLength(2);

    const [first, second] = server.requests;
    expect(first?.api).toBe(api);
    expect(first?.system).toBe('You investigate alerts.');
    expect(first?.messages).toEqual([{ role: 'user', text: 'Alert: DiskFull on web-1', toolCalls: [], toolResults: [] }]);
    expect(first?.tools.map((definition) => definition.name)).toEqual(['read_disk_usage', 'restart_service']);
    expect(first?.tools[0]?.inputSchema).toMatchObject({ type: 'object', properties: { host: { type: 'string' } } });
    expect(first?.maxTokens).toBe(1024);
    expect(first?.headers[apiKeyHeader[0]!]).toBe(apiKeyHeader[1]);

    const call = second?.messages.find((message) => message.role === 'assistant')?.toolCalls[0];
    expect(call).toMatchObject({ name: 'read_disk_usage', input: { host: 'web-1' } });
    const toolMessage = second?.messages.at(-1);
    expect(toolMessage?.role).toBe('tool');
    expect(toolMessage?.toolResults[0]?.toolCallId).toBe(call?.id);
    expect(shownText(second!)).toContain('"usedPercent":97');
    expect(shownText(first!)).not.toContain('usedPercent');
  });

  it('passes a failing tool back to the model as its result', async () => {
    server.setScript(
      scriptFromTurns([{ kind: 'tool-calls', calls: [{ name: 'restart_service', input: { service: 'nginx' } }] }, { kind: 'text', text: 'Gave up.' }]),
    );

    const result = await generateText({ model: model(server), prompt: 'restart nginx', tools: diskTools, stopWhen: stepCountIs(3) });

    expect(result.text).toBe('Gave up.');
    const result0 = server.requests[1]?.messages.at(-1)?.toolResults[0];
    expect(result0?.text).toContain('restart refused');
    // Only Anthropic's wire can say a tool result is an error.
    expect(result0?.isError).toBe(api === 'anthropic');
  });

  it('gives each tool call a unique id', async () => {
    server.setScript(scriptFromTurns([{ kind: 'tool-calls', calls: [1, 2, 3].map((n) => ({ name: 'read_disk_usage', input: { host: `web-${n}` } })) }]));

    const result = await generateText({ model: model(server), prompt: 'check all', tools: diskTools, stopWhen: stepCountIs(1) });

    const ids = result.toolCalls.map((call) => call.toolCallId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it('reports estimated usage, a quarter of the characters', async () => {
    const text = 'x'.repeat(40);
    server.setScript(scriptFromTurns([investigation[0]!, { kind: 'text', text }]));

    const result = await generateText({ model: model(server), prompt: 'Alert: DiskFull on web-1', tools: diskTools, stopWhen: stepCountIs(4) });

    expect(result.usage.outputTokens).toBe(10);
    expect(result.steps[1]!.usage.inputTokens!).toBeGreaterThan(result.steps[0]!.usage.inputTokens!);
    expect(result.totalUsage.inputTokens).toBe(result.steps[0]!.usage.inputTokens! + result.steps[1]!.usage.inputTokens!);
  });

  it('reports the cached prompt prefix of a repeated conversation as cached input tokens', async () => {
    server.setScript(scriptFromTurns(investigation));
    // Anthropic caches only what is marked; OpenAI caches any prefix it saw before.
    const system = { role: 'system' as const, content: 'You investigate alerts. '.repeat(20), providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } };

    const result = await generateText({ model: model(server), system, prompt: 'Alert: DiskFull on web-1', tools: diskTools, stopWhen: stepCountIs(4) });

    const [first, second] = result.steps;
    expect(first!.usage.inputTokenDetails.cacheReadTokens ?? 0).toBe(0);
    expect(second!.usage.inputTokenDetails.cacheReadTokens).toBeGreaterThan(120);
    // The cached part is inside the input count, not beside it.
    expect(second!.usage.inputTokens).toBeGreaterThan(second!.usage.inputTokenDetails.cacheReadTokens!);
    if (api === 'anthropic') expect(first!.usage.inputTokenDetails.cacheWriteTokens).toBe(second!.usage.inputTokenDetails.cacheReadTokens);
  });

  it('tells the script which tool a request forces, in either form', async () => {
    server.setScript(scriptFromTurns([{ kind: 'tool-calls', calls: [{ name: 'read_disk_usage', input: { host: 'web-1' } }] }]));

    await generateText({ model: model(server), prompt: 'check', tools: diskTools, toolChoice: { type: 'tool', toolName: 'read_disk_usage' }, stopWhen: stepCountIs(1) });
    await generateText({ model: model(server), prompt: 'check', tools: diskTools, toolChoice: 'required', activeTools: ['read_disk_usage'], stopWhen: stepCountIs(1) });
    await generateText({ model: model(server), prompt: 'check', tools: diskTools, toolChoice: 'required', stopWhen: stepCountIs(1) });
    await generateText({ model: model(server), prompt: 'check', tools: diskTools, stopWhen: stepCountIs(1) });

    expect(server.requests.map((r) => r.forcedTool)).toEqual(['read_disk_usage', 'read_disk_usage', '(any)', null]);
  });

  it('retries a rate limit and then succeeds', async () => {
    server.setScript(
      scriptInRequestOrder([
        { kind: 'error', status: 429, message: 'slow down', headers: { 'retry-after-ms': '10' } },
        { kind: 'text', text: 'recovered' },
      ]),
    );

    const result = await generateText({ model: model(server), prompt: 'hello', maxRetries: 1 });

    expect(result.text).toBe('recovered');
    expect(server.requests).toHaveLength(2);
  });

  it('surfaces the scripted error message when retries run out', async () => {
    server.setScript(scriptFromTurns([{ kind: 'error', status: 429, message: 'slow down, scripted' }]));

    await expect(generateText({ model: model(server), prompt: 'hello', maxRetries: 0 })).rejects.toThrow('slow down, scripted');
  });

  it('lets a hanging request be aborted, and closes with it still open', async () => {
    server.setScript(scriptFromTurns([{ kind: 'hang' }]));

    const started = Date.now();
    await expect(
      generateText({ model: model(server), prompt: 'hello', maxRetries: 0, abortSignal: AbortSignal.timeout(300) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(5_000);

    const stillHanging = generateText({ model: model(server), prompt: 'hello again', maxRetries: 0 });
    stillHanging.catch(() => undefined);
    await expect.poll(() => server.requests.length).toBe(2);
    await server.close();
    await expect(stillHanging).rejects.toThrow('other side closed');
  });

  it('streams text and tool calls as server-sent events', async () => {
    server.setScript(scriptFromTurns(investigation));

    const result = streamText({ model: model(server), prompt: 'Alert: DiskFull on web-1', tools: diskTools, stopWhen: stepCountIs(4) });

    expect(await result.text).toBe('The /var/log mount on web-1 is 97% full; rotate logs.');
    expect((await result.steps)[0]?.toolCalls[0]?.input).toEqual({ host: 'web-1' });
    expect((await result.totalUsage).outputTokens).toBeGreaterThan(0);
    expect(shownText(server.requests[1]!)).toContain('"usedPercent":97');
  });

  it('answers malformed JSON with 400 in the provider error shape', async () => {
    const path = api === 'anthropic' ? '/v1/messages' : '/v1/chat/completions';
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { type?: string; error: { message: string; type: string } };
    if (api === 'anthropic') expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    else expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('not valid JSON');
    expect(server.requests).toHaveLength(0);
  });
});

describe('scripts', () => {
  it('says so when a conversation runs past the end of its script', async () => {
    const server = await startScriptedLlmServer(scriptFromTurns([]));
    try {
      const model = createAnthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'k' })('claude-sonnet-4-5');
      const result = await generateText({ model, prompt: 'hello', maxOutputTokens: 100 });
      expect(result.text).toContain('has no turn 0');
    } finally {
      await server.close();
    }
  });

  it('rejects a body that is JSON but not a request', async () => {
    const server = await startScriptedLlmServer();
    try {
      const response = await fetch(`${server.anthropicBaseUrl}/messages`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/max_tokens.*messages/);
    } finally {
      await server.close();
    }
  });
});

describe('quirks of llama-server and small models', () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await startScriptedLlmServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const openai = (s: ScriptedLlmServer) => createOpenAICompatible({ name: 'llama', baseURL: s.openaiBaseUrl })('qwen2.5-coder-0.5b');
  // A model that calls the tool only when the server forces it, as a small model does.
  const onlyWhenForced = (request: { forcedTool: string | null }) =>
    request.forcedTool ? { kind: 'tool-calls' as const, calls: [{ name: 'read_disk_usage', input: { host: 'web-1' } }] } : { kind: 'text' as const, text: 'The disk is probably full.' };

  it('reads a tool_choice object as "auto", so the model answers freely, but honours "required"', async () => {
    server.setQuirks({ objectToolChoiceIgnored: true });
    server.setScript(onlyWhenForced);

    const named = await generateText({ model: openai(server), prompt: 'check', tools: diskTools, toolChoice: { type: 'tool', toolName: 'read_disk_usage' }, stopWhen: stepCountIs(1) }).catch((error: Error) => error);
    const required = await generateText({ model: openai(server), prompt: 'check', tools: diskTools, toolChoice: 'required', activeTools: ['read_disk_usage'], stopWhen: stepCountIs(1) });

    expect(server.requests.map((r) => r.toolChoice)).toEqual(['auto', 'required']);
    expect(named).toBeInstanceOf(Error);
    expect(required.toolCalls.map((c) => c.toolName)).toEqual(['read_disk_usage']);
  });

  it('writes tool calls into the text as ```json blocks', async () => {
    server.setQuirks({ toolCallsAsText: true });
    server.setScript(scriptFromTurns([{ kind: 'tool-calls', text: 'Let me look.', calls: [{ name: 'read_disk_usage', input: { host: 'web-1' } }] }]));

    const result = await generateText({ model: openai(server), prompt: 'check', tools: diskTools, stopWhen: stepCountIs(2) });

    expect(result.toolCalls).toEqual([]);
    expect(result.text).toBe('Let me look.\n```json\n{"name":"read_disk_usage","arguments":{"host":"web-1"}}\n```');
  });

  it('hands in a proposal whose evidence cites nothing', async () => {
    server.setQuirks({ emptyEvidence: true });
    const submit = tool({ description: 'submit', inputSchema: jsonSchema<Record<string, unknown>>({ type: 'object' }) });
    server.setScript(scriptFromTurns([{ kind: 'tool-calls', calls: [{ name: 'submit_proposal', input: { diagnosis: 'x', evidence: [{ source: 'logs', summary: 'y' }], confidence: 0.4 } }] }]));

    const result = await generateText({ model: openai(server), prompt: 'check', tools: { submit_proposal: submit }, stopWhen: stepCountIs(1) });

    expect(result.toolCalls[0]?.input).toEqual({ diagnosis: 'x', evidence: [{ source: 'None', summary: 'No evidence provided.' }], confidence: 1 });
  });
});
