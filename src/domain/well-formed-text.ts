/**
 * PostgreSQL text and jsonb refuse U+0000 and unpaired UTF-16 surrogates ("\ud800" in JSON), so a
 * webhook carrying one anywhere would be refused at commit on every retry. Each becomes U+FFFD, the
 * Unicode replacement character, in every string and every object key, before the body is parsed.
 */

export const REPLACEMENT_CHARACTER = '\uFFFD';

// ES2024 String.prototype.isWellFormed / toWellFormed (Node 20+); TypeScript's ES2022 lib does not declare them.
type WellFormable = string & { isWellFormed(): boolean; toWellFormed(): string };

/** The text with U+0000 and every lone surrogate replaced by U+FFFD; the same string when there is none. */
export function wellFormedText(text: string): string {
  const paired = (text as WellFormable).isWellFormed() ? text : (text as WellFormable).toWellFormed();
  return paired.includes('\u0000') ? paired.replaceAll('\u0000', REPLACEMENT_CHARACTER) : paired;
}

/**
 * A JSON value (what JSON.parse returns) with `wellFormedText` applied to every string and key.
 * Pure: the input is not modified, and a part with nothing to replace is returned as it was.
 * Two keys that differ only in what is replaced end up equal; the later one wins, as a repeated
 * key does in JSON.parse.
 */
export function wellFormedJson(value: unknown): unknown {
  if (typeof value === 'string') return wellFormedText(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = wellFormedJson(item);
      if (clean !== item) {
        copy ??= value.slice();
        copy[i] = clean;
      }
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    let changed = false;
    const cleaned = entries.map(([key, item]): [string, unknown] => {
      const cleanKey = wellFormedText(key);
      const cleanItem = wellFormedJson(item);
      if (cleanKey !== key || cleanItem !== item) changed = true;
      return [cleanKey, cleanItem];
    });
    // fromEntries defines own properties, so a "__proto__" key stays a key and never becomes a prototype.
    return changed ? Object.fromEntries(cleaned) : value;
  }
  return value;
}
