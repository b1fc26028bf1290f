import { z } from 'zod';

/** What checking the alert condition after a remediation found. */
export const VerificationSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('cleared'), checks: z.number().int(), elapsedMs: z.number() }),
  /** lastSeries is -1 when the last query failed. */
  z.object({ outcome: z.literal('still_firing'), checks: z.number().int(), elapsedMs: z.number(), lastSeries: z.number().int() }),
  z.object({ outcome: z.literal('skipped'), reason: z.string() }),
]);
export type Verification = z.infer<typeof VerificationSchema>;
