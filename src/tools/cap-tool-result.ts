/**
 * Cuts a tool result to a byte budget on a character boundary and says so, with a hint the model can act
 * on: a result that fills the context crowds out the evidence that matters, and a silent cut misleads.
 */
export function capToolResult(text: string, maxBytes: number): { text: string; bytes: number; truncated: boolean } {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { text, bytes, truncated: false };
  const marker = `\n[truncated: showing ${maxBytes} of ${bytes} bytes. Narrow the query: a shorter time range, more label matchers, a lower limit, or aggregate with sum/topk/count.]`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker));
  let kept = Buffer.from(text).subarray(0, budget).toString('utf8');
  // A multi-byte character cut in half decodes to U+FFFD; drop it.
  if (kept.endsWith('\uFFFD')) kept = kept.slice(0, -1);
  return { text: kept + marker, bytes, truncated: true };
}
