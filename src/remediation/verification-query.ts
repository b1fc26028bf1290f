/** `{{ name }}` or `{{ name | regex }}` in a catalog entry's verification query. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*(regex)\s*)?\}\}/g;

/** The input names a verification query refers to, so the loader can refuse a query naming no input. */
export function placeholdersOf(query: string): string[] {
  return [...query.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/** Escapes a value for the inside of a PromQL double-quoted string. */
function promqlString(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** Quotes RE2 metacharacters, so an input used in a `=~` matcher matches itself only. */
function re2Literal(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/**
 * The catalog entry's own PromQL with the approved inputs filled in: a trusted query, because the
 * catalog author wrote it and inputs only fill string literals (escaped) or numbers. Returns null when an
 * input the query needs is missing or not a string or number.
 */
export function renderVerificationQuery(query: string, inputs: Record<string, unknown>): string | null {
  let missing = false;
  const rendered = query.replace(PLACEHOLDER, (_match, name: string, filter: string | undefined) => {
    const value = inputs[name];
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') {
      missing = true;
      return '';
    }
    return promqlString(filter === 'regex' ? re2Literal(value) : value);
  });
  return missing ? null : rendered;
}

/**
 * The entry's own verification query for the inputs that ran, or null when it has none: what verification
 * runs when Prometheus holds no trusted rule expression for the alert.
 */
export function catalogVerificationQuery(entry: { verification?: { query: string } | undefined }, inputs: Record<string, unknown>): string | null {
  return entry.verification ? renderVerificationQuery(entry.verification.query, inputs) : null;
}
