/**
 * Alert text, log lines, metric labels and tool output come from the systems under investigation, and
 * anyone who can write a log line can write "ignore your instructions". Such text reaches the model only
 * inside this fence, and the system prompt says that fenced text is data, never instructions.
 */
const FENCE_MARKER = /<\s*\/?\s*untrusted-data\b[^>]*>?/gi;

export function fenceUntrusted(source: string, text: string): string {
  // A planted closing tag would let the rest of the text pose as the operator's own words.
  const neutralised = text.replace(FENCE_MARKER, '[fence marker removed]');
  const label = source.replace(/"/g, "'").replace(/[<>\n]/g, ' ');
  return `<untrusted-data source="${label}">\n${neutralised}\n</untrusted-data>`;
}
