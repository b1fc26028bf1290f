import { wrapLanguageModel, type LanguageModelMiddleware } from 'ai';
import type { TranscriptEntry } from '../domain/investigation.js';
import type { ProviderModel } from './language-model.js';
type ModelCallEntry = Extract<TranscriptEntry, { kind: 'model-call' }>;

export interface ModelCallLedger {
  /** The model to call: every request it makes is recorded here, answered or not. */
  model: ProviderModel;
  calls: readonly ModelCallEntry[];
  inputTokens(): number;
  cachedInputTokens(): number;
  outputTokens(): number;
}

function bodyBytes(body: unknown): number | null {
  if (body === undefined || body === null) return null;
  return Buffer.byteLength(typeof body === 'string' ? body : JSON.stringify(body));
}

function parsedInput(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/**
 * Records every model call below the AI SDK's own bookkeeping. generateText throws away the usage of a
 * call it then rejects (a tool choice the model ignored, a provider error after the answer), so budgets,
 * cost and the transcript are counted here, where nothing is lost.
 */
export function createModelCallLedger(model: ProviderModel, onCall: (entry: ModelCallEntry) => void): ModelCallLedger {
  const calls: ModelCallEntry[] = [];
  const record = (entry: ModelCallEntry) => {
    calls.push(entry);
    onCall(entry);
  };
  const middleware: LanguageModelMiddleware = {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate, params }) {
      const started = Date.now();
      const step = calls.length;
      try {
        const result = await doGenerate();
        const text = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
        const toolCalls = result.content.flatMap((part) => (part.type === 'tool-call' ? [{ name: part.toolName, input: parsedInput(part.input) }] : []));
        record({
          kind: 'model-call',
          step,
          durationMs: Date.now() - started,
          requestBytes: bodyBytes(result.request?.body),
          inputTokens: result.usage.inputTokens.total ?? 0,
          cachedInputTokens: result.usage.inputTokens.cacheRead ?? 0,
          outputTokens: result.usage.outputTokens.total ?? 0,
          finishReason: result.finishReason.unified,
          text,
          toolCalls: toolCalls as ModelCallEntry['toolCalls'],
          forcedTool: params.toolChoice?.type === 'required' || params.toolChoice?.type === 'tool',
        });
        return result;
      } catch (error) {
        record({
          kind: 'model-call',
          step,
          durationMs: Date.now() - started,
          requestBytes: null,
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          finishReason: 'error',
          text: '',
          toolCalls: [],
          forcedTool: params.toolChoice?.type === 'required' || params.toolChoice?.type === 'tool',
          error: (error as Error).message,
        });
        throw error;
      }
    },
  };
  const sum = (pick: (entry: ModelCallEntry) => number) => () => calls.reduce((total, entry) => total + pick(entry), 0);
  return {
    model: wrapLanguageModel({ model, middleware }),
    calls,
    inputTokens: sum((e) => e.inputTokens),
    cachedInputTokens: sum((e) => e.cachedInputTokens),
    outputTokens: sum((e) => e.outputTokens),
  };
}
