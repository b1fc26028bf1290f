import { z } from 'zod';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Any JSON value: what jsonb columns, tool arguments and action inputs hold. Typed, never `unknown`. */
// zod 3 calls a lazy schema's getter on every parse: the getter returns a union built once, not a new one each time.
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() => JsonValueUnion);
const JsonValueUnion: z.ZodType<JsonValue> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValueSchema), z.record(JsonValueSchema)]);

export const JsonObjectSchema = z.record(JsonValueSchema);
export type JsonObject = z.infer<typeof JsonObjectSchema>;
