import { ResponderError } from '../domain/errors.js';

export interface LabelMatcher {
  name: string;
  operator: '=' | '!=' | '=~' | '!~';
  value: string;
  /** A missing label reads as the empty string, as in Loki and Prometheus. */
  test(value: string): boolean;
}

export interface LineFilter {
  operator: '|=' | '!=' | '|~' | '!~';
  value: string;
  test(line: string): boolean;
}

export interface LogQuery {
  matchers: LabelMatcher[];
  filters: LineFilter[];
}

export type LogQueryParse = { kind: 'parsed'; query: LogQuery } | { kind: 'invalid'; message: string };

const METRIC_FUNCTIONS = new Set([
  'rate', 'count_over_time', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'avg_over_time', 'max_over_time',
  'min_over_time', 'first_over_time', 'last_over_time', 'stdvar_over_time', 'stddev_over_time', 'quantile_over_time',
  'absent_over_time', 'rate_counter', 'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'bottomk', 'topk',
  'sort', 'sort_desc', 'vector', 'label_replace',
]);

// Only thrown inside this module; parseLogQuery turns it into an 'invalid' result.
class LogQuerySyntaxError extends ResponderError {
  constructor(message: string) {
    super('logql_invalid', message);
  }
}

function unsupported(what: string): never {
  throw new LogQuerySyntaxError(`parse error : ${what} not supported by the fake Loki, which serves log queries: a stream selector and line filters (|= != |~ !~)`);
}

/**
 * Go's RE2 syntax as a JS RegExp: a leading flag group such as (?i) becomes RegExp flags, since JS has no
 * inline flags, and (?P<name>...) becomes (?<name>...). Label matchers are anchored at both ends, as in Loki.
 */
export function compileGoRegex(source: string, anchored: boolean): RegExp {
  let body = source.replace(/\(\?P</g, '(?<');
  const flagGroup = /^\(\?([a-zA-Z]+)\)/.exec(body);
  const flags = new Set<string>();
  if (flagGroup) {
    for (const flag of flagGroup[1]!) {
      if (!'ims'.includes(flag)) unsupported(`the regex flag (?${flag})`);
      flags.add(flag);
    }
    body = body.slice(flagGroup[0].length);
  }
  if (/\(\?[a-zA-Z]/.test(body)) unsupported(`a flag group other than at the start of the regex ${JSON.stringify(source)}`);
  try {
    return new RegExp(anchored ? `^(?:${body})$` : body, [...flags].join(''));
  } catch (error) {
    throw new LogQuerySyntaxError(`parse error : invalid regex ${JSON.stringify(source)}: ${(error as Error).message}`);
  }
}

class Cursor {
  at = 0;
  constructor(readonly text: string) {}

  private fail(message: string): never {
    const before = this.text.slice(0, this.at).split('\n');
    throw new LogQuerySyntaxError(`parse error at line ${before.length}, col ${before.at(-1)!.length + 1}: ${message}`);
  }

  done(): boolean {
    this.skipSpace();
    return this.at >= this.text.length;
  }

  skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at += 1;
  }

  take(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  identifier(): string | undefined {
    this.skipSpace();
    const match = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(this.text.slice(this.at));
    if (!match) return undefined;
    this.at += match[0].length;
    return match[0];
  }

  expect(token: string): void {
    if (!this.take(token)) this.fail(`syntax error: expected ${token}, found ${this.found()}`);
  }

  found(): string {
    return this.at >= this.text.length ? 'end of query' : JSON.stringify(this.text.slice(this.at, this.at + 12));
  }

  string(): string {
    this.skipSpace();
    const rest = this.text.slice(this.at);
    if (rest.startsWith('`')) {
      const end = rest.indexOf('`', 1);
      if (end === -1) this.fail('syntax error: unterminated raw string');
      this.at += end + 1;
      return rest.slice(1, end);
    }
    const quoted = /^"(?:[^"\\\n]|\\.)*"/.exec(rest);
    if (!quoted) this.fail(`syntax error: expected a quoted string, found ${this.found()}`);
    try {
      // Go's interpreted strings share JSON's escapes for everything a query plausibly holds.
      const value = JSON.parse(quoted[0]) as string;
      this.at += quoted[0].length;
      return value;
    } catch {
      return this.fail(`syntax error: invalid escape in ${quoted[0]}`);
    }
  }

  unexpected(): never {
    return this.fail(`syntax error: unexpected ${this.found()}`);
  }
}

function parseMatcher(cursor: Cursor): LabelMatcher {
  const name = cursor.identifier() ?? cursor.unexpected();
  const operator = (['=~', '!~', '!=', '='] as const).find((candidate) => cursor.take(candidate)) ?? cursor.unexpected();
  const value = cursor.string();
  if (operator === '=' || operator === '!=') {
    return { name, operator, value, test: (actual) => (actual === value) === (operator === '=') };
  }
  const regex = compileGoRegex(value, true);
  return { name, operator, value, test: (actual) => regex.test(actual) === (operator === '=~') };
}

function parseSelector(cursor: Cursor): LabelMatcher[] {
  const matchers: LabelMatcher[] = [];
  cursor.expect('{');
  while (!cursor.take('}')) {
    matchers.push(parseMatcher(cursor));
    if (!cursor.take(',')) {
      cursor.expect('}');
      break;
    }
  }
  if (!matchers.some((matcher) => (matcher.operator === '=' || matcher.operator === '=~') && !matcher.test(''))) {
    throw new LogQuerySyntaxError(
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
        'For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
  return matchers;
}

function parseFilter(cursor: Cursor): LineFilter | undefined {
  const operator = (['|=', '!=', '|~', '!~'] as const).find((candidate) => cursor.take(candidate));
  if (operator === undefined) return undefined;
  const value = cursor.string();
  if (operator === '|=' || operator === '!=') {
    return { operator, value, test: (line) => line.includes(value) === (operator === '|=') };
  }
  const regex = compileGoRegex(value, false);
  return { operator, value, test: (line) => regex.test(line) === (operator === '|~') };
}

function parse(text: string): LogQuery {
  const cursor = new Cursor(text);
  if (cursor.done()) unsupported('an empty query is');
  cursor.skipSpace();
  if (!cursor.text.startsWith('{', cursor.at)) {
    const name = cursor.identifier();
    if (name !== undefined && METRIC_FUNCTIONS.has(name)) unsupported(`metric queries (${name}) are`);
    cursor.unexpected();
  }
  const matchers = parseSelector(cursor);
  const filters: LineFilter[] = [];
  while (!cursor.done()) {
    const filter = parseFilter(cursor);
    if (filter) {
      if (cursor.identifier() === 'or') unsupported('"or" between line filters is');
      filters.push(filter);
      continue;
    }
    if (cursor.take('|>') || cursor.take('!>')) unsupported('pattern line filters (|> and !>) are');
    if (cursor.take('[')) unsupported('range vectors (metric queries) are');
    if (cursor.take('|')) unsupported(`the pipeline stage "| ${cursor.identifier() ?? cursor.found()}" is`);
    cursor.unexpected();
  }
  return { matchers, filters };
}

/** Reads the LogQL subset the fake Loki serves; anything beyond it is 'invalid' with a message in Loki's words. */
export function parseLogQuery(text: string): LogQueryParse {
  try {
    return { kind: 'parsed', query: parse(text) };
  } catch (error) {
    if (error instanceof LogQuerySyntaxError) return { kind: 'invalid', message: error.message };
    throw error;
  }
}

export function matchesStream(query: LogQuery, labels: Record<string, string>): boolean {
  return query.matchers.every((matcher) => matcher.test(labels[matcher.name] ?? ''));
}

export function matchesLine(query: LogQuery, line: string): boolean {
  return query.filters.every((filter) => filter.test(line));
}
