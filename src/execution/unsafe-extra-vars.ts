import type { JsonValue } from '../domain/json-value.js';

/**
 * The inputs as an Ansible extra-vars document in which every string is tagged `!unsafe`. Ansible templates
 * variable values when a task uses them, so an input holding "{{ lookup('pipe', 'id') }}" would otherwise run a
 * command on the controller: a model or alert label choosing what runs. Tagged, a string stays the string.
 * The document is YAML flow style; each string is written as a JSON string, which YAML reads the same way.
 */
export function unsafeExtraVars(value: JsonValue): string {
  if (typeof value === 'string') return `!unsafe ${JSON.stringify(value)}`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(unsafeExtraVars).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${unsafeExtraVars(item)}`)
    .join(', ')}}`;
}
