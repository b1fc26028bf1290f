import { z } from 'zod';
import { JsonValueSchema } from '../domain/json-value.js';

const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 or HMAC-SHA256 as 64 hex digits');

/** One sealed event with everything its seal covers: a line of an export, and what verify walks. */
export const ChainEventSchema = z.object({
  type: z.literal('event'),
  seq: z.number().int().positive(),
  id: z.number().int(),
  incidentId: z.string().nullable(),
  at: z.string(),
  actor: z.string(),
  kind: z.string(),
  data: JsonValueSchema,
  prevHash: z.string(),
  hash: z.string(),
  /** Null: sealed with a plain SHA-256, before the chain was keyed. */
  keyId: z.string().nullable(),
});
export type ChainEvent = z.infer<typeof ChainEventSchema>;

/**
 * An event an export leaves out (another incident's), kept as its seal: enough to check the link through
 * it and its HMAC, but not what it says.
 */
export const ChainLinkSchema = z.object({
  type: z.literal('link'),
  seq: z.number().int().positive(),
  incidentId: z.string().nullable(),
  prevHash: HashSchema,
  hash: HashSchema,
  keyId: z.string(),
  contentSha256: HashSchema,
});
export type ChainLink = z.infer<typeof ChainLinkSchema>;

export type ChainEntry = ChainEvent | ChainLink;
