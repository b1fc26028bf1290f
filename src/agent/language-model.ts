import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { wrapLanguageModel } from 'ai';
import type { AgentConfig } from '../config/config.schema.js';
import { createRetryingFetch, type RetryNotice } from './retrying-fetch.js';

/** A provider's model object (not a model id string): what AI SDK middleware can wrap. */
export type ProviderModel = Parameters<typeof wrapLanguageModel>[0]['model'];

export interface ConfiguredModel {
  model: ProviderModel;
  provider: 'anthropic' | 'openai-compatible';
  modelId: string;
}

/** Why no model is used, for the log line at start and the investigation record; null when one is configured. */
export function missingModelReason(agent: AgentConfig): string | null {
  if (agent.provider === 'none') return 'agent.provider is none';
  if (agent.provider === 'anthropic' && !agent.apiKey) return 'no agent.apiKey for Anthropic (RESPONDER_AGENT__API_KEY)';
  return null;
}

/** The provider the agent talks to, over the given fetch (retries and timeouts live there). */
export function createLanguageModel(agent: AgentConfig, fetchWithRetries: typeof fetch): ConfiguredModel | null {
  if (missingModelReason(agent) !== null) return null;
  if (agent.provider === 'anthropic') {
    const anthropic = createAnthropic({ apiKey: agent.apiKey, ...(agent.baseUrl ? { baseURL: agent.baseUrl } : {}), fetch: fetchWithRetries });
    return { model: anthropic(agent.model), provider: 'anthropic', modelId: agent.model };
  }
  const compatible = createOpenAICompatible({
    name: 'openai-compatible',
    baseURL: agent.baseUrl!,
    ...(agent.apiKey ? { apiKey: agent.apiKey } : {}),
    fetch: fetchWithRetries,
  });
  return { model: compatible(agent.model), provider: 'openai-compatible', modelId: agent.model };
}

/**
 * Builds the configured model once per investigation, its fetch retrying by the agent settings and
 * reporting each retry to the caller (the investigation's transcript).
 */
export function configuredModelFactory(agent: AgentConfig): (onRetry: (notice: RetryNotice) => void) => ConfiguredModel {
  return (onRetry) => {
    const fetchWithRetries = createRetryingFetch({ retries: agent.retries, backoffMs: agent.retryBackoffMs, attemptTimeoutMs: agent.requestTimeoutSeconds * 1000, onRetry });
    const model = createLanguageModel(agent, fetchWithRetries);
    if (!model) throw new Error(`no model configured: ${missingModelReason(agent)}`);
    return model;
  };
}
