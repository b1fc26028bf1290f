import type { ErrorObject, KeywordDefinition } from 'ajv';

/**
 * The schema keyword under which a catalog entry words its own refusals: in any (sub)schema, a sentence per
 * keyword of that same schema, e.g. `{ not: 'must not contain ".." (no path traversal)' }`. A `not` or a
 * regex says what is refused only to someone who can read the schema; the sentence says it to the model in
 * its repair round and to the person who changed the inputs.
 */
export const MESSAGES_KEYWORD = 'x-responder-messages';

/** Registered with ajv so that a message that is not a short sentence is a catalog error at load. */
export const messagesKeyword: KeywordDefinition = {
  keyword: MESSAGES_KEYWORD,
  schemaType: 'object',
  metaSchema: { type: 'object', additionalProperties: { type: 'string', minLength: 1, maxLength: 300 } },
};

/** One thing wrong with a set of inputs: which input (`service`, `paths[1]`; '' for the inputs as a whole) and what, in words. */
export interface InputProblem {
  input: string;
  message: string;
}

/**
 * A value from a proposal or a person, for a message: JSON-quoted (no newline, no markup that survives
 * escaping, visibly data) and cut, so a hostile value can neither flood nor pose as instructions.
 */
export function quoteValue(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * `service: must be …`, or with a prefix naming where the inputs sit (`action.inputs.service: …`); a
 * problem with the inputs as a whole is named by the prefix, or `inputs`.
 */
export function formatInputProblem(problem: InputProblem, prefix?: string): string {
  const where = prefix ? (problem.input ? `${prefix}${problem.input.startsWith('[') ? '' : '.'}${problem.input}` : prefix) : problem.input || 'inputs';
  return `${where}: ${problem.message}`;
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** A JSON pointer into the inputs as a reader names the place: `/paths/0` is `paths[0]`. */
function inputName(pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) segments.push(extra);
  return segments
    .map((segment, index) => {
      if (/^(0|[1-9][0-9]{0,8})$/.test(segment)) return `[${segment}]`;
      // Names the schema does not define come from the sender: quoted, like any other value.
      if (PLAIN_NAME.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${quoteValue(segment, 40)}]`;
    })
    .join('');
}

const FORMAT_WORDS: Record<string, string> = {
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
  email: 'an email address',
  uri: 'a URI',
  'date-time': 'a date and time like 2026-01-31T12:00:00Z',
  date: 'a date like 2026-01-31',
};

function typeWords(type: unknown): string {
  const words: Record<string, string> = { string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', array: 'a list', object: 'an object', null: 'null' };
  const types = Array.isArray(type) ? type : String(type).split(',');
  return types.map((t: unknown) => words[String(t)] ?? String(t)).join(' or ');
}

function plural(count: unknown, one: string, many: string): string {
  return `${String(count)} ${count === 1 ? one : many}`;
}

/** What ajv found, in words, when the catalog entry has no sentence of its own for it. */
function inWords(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return `must be ${typeWords(p.type)}`;
    case 'maxLength':
      return `must be at most ${plural(p.limit, 'character', 'characters')} long`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${plural(p.limit, 'character', 'characters')} long`;
    case 'maxItems':
      return `must list at most ${plural(p.limit, 'item', 'items')}`;
    case 'minItems':
      return `must list at least ${plural(p.limit, 'item', 'items')}`;
    case 'uniqueItems':
      return `must not list the same item twice ([${Math.min(Number(p.i), Number(p.j))}] and [${Math.max(Number(p.i), Number(p.j))}] are equal)`;
    case 'minimum':
      return `must be at least ${String(p.limit)}`;
    case 'maximum':
      return `must be at most ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'format':
      return `must be ${FORMAT_WORDS[String(p.format)] ?? `in the ${String(p.format)} format`}`;
    case 'pattern':
      return `must match the pattern ${JSON.stringify(p.pattern)}`;
    case 'not': {
      const refused = (error.schema ?? {}) as Record<string, unknown>;
      return typeof refused.pattern === 'string' ? `must not match the pattern ${JSON.stringify(refused.pattern)}` : 'is a value this action refuses';
    }
    default:
      return (error.message ?? 'is invalid').replaceAll('NOT', 'not');
  }
}

function ownSentence(error: ErrorObject): string | undefined {
  const messages = (error.parentSchema as Record<string, unknown> | undefined)?.[MESSAGES_KEYWORD] as Record<string, string> | undefined;
  return messages?.[error.keyword];
}

/**
 * ajv's errors (from a validator compiled with `verbose: true`, so each error carries its schema) as one
 * problem per input and failure, in words. An anyOf/oneOf that fails is one problem, not one per branch.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[]): InputProblem[] {
  const branching = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath);
  const insideBranch = (e: ErrorObject) => branching.some((path) => e.schemaPath.startsWith(`${path}/`));
  return errors
    .filter((e) => !insideBranch(e))
    .map((error): InputProblem => {
      const own = ownSentence(error);
      if (error.keyword === 'required') {
        return { input: inputName(error.instancePath, String((error.params as { missingProperty: string }).missingProperty)), message: own ?? 'is required' };
      }
      if (error.keyword === 'additionalProperties') {
        const known = Object.keys(((error.parentSchema as Record<string, unknown>).properties as object | undefined) ?? {});
        const extra = quoteValue((error.params as { additionalProperty: string }).additionalProperty, 40);
        return { input: inputName(error.instancePath), message: own ?? `${extra} is not an input of this action${known.length > 0 ? `; it takes ${known.join(', ')}` : ''}` };
      }
      if (own) return { input: inputName(error.instancePath), message: own };
      if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
        const branches = errors.filter((e) => e.schemaPath.startsWith(`${error.schemaPath}/`) && e.instancePath === error.instancePath).map(inWords);
        const unique = [...new Set(branches)];
        return { input: inputName(error.instancePath), message: unique.length > 0 ? unique.join(', or ') : 'matches none of the allowed forms' };
      }
      return { input: inputName(error.instancePath), message: inWords(error) };
    });
}

/**
 * Catalog-load check: each sentence names a keyword its own schema uses, so a misplaced sentence (beside
 * the wrong input, or for a keyword moved into `items`) is an error instead of never being shown.
 */
export function misplacedMessages(schema: unknown, at = '#'): string[] {
  if (Array.isArray(schema)) return schema.flatMap((item, index) => misplacedMessages(item, `${at}/${index}`));
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const problems: string[] = [];
  const messages = node[MESSAGES_KEYWORD];
  if (typeof messages === 'object' && messages !== null) {
    for (const keyword of Object.keys(messages)) {
      if (!(keyword in node)) problems.push(`${at}: ${MESSAGES_KEYWORD} words "${keyword}", which this schema does not use`);
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key !== MESSAGES_KEYWORD) problems.push(...misplacedMessages(value, `${at}/${key}`));
  }
  return problems;
}
