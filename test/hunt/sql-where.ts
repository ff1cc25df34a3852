/**
 * A tiny interpreter for the SQL the Athena source generates (the subset it uses: OR, AND,
 * parentheses, FALSE, IN, LIKE ... ESCAPE, >=, <=, dotted struct columns and
 * json_extract_scalar), evaluated over a CloudTrail record the way Athena's JSON SerDe sees
 * it: column names case-insensitive, requestparameters/responseelements as JSON strings.
 * Tests use it to check that the SQL text means what the files source's predicate means.
 */
import type { TrailRecord } from '../../src/hunt/model.js';

type Token = { kind: 'word' | 'string' | 'punct'; value: string };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(')((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_.]*)|(>=|<=|[(),]))/y;
  let match: RegExpExecArray | null;
  while (re.lastIndex < sql.length && (match = re.exec(sql))) {
    if (match[1]) tokens.push({ kind: 'string', value: match[2]!.replace(/''/g, "'") });
    else if (match[3]) tokens.push({ kind: 'word', value: match[3] });
    else tokens.push({ kind: 'punct', value: match[4]! });
    if (/^\s*$/.test(sql.slice(re.lastIndex))) break;
  }
  if (re.lastIndex < sql.trimEnd().length) throw new Error(`cannot tokenize at ${sql.slice(re.lastIndex, re.lastIndex + 30)}`);
  return tokens;
}

/** What a row looks like to Athena: a column path, case-insensitive, over the record. */
export type Row = (path: string) => string | undefined;

export function rowOf(record: TrailRecord, partitions: { region: string; day: string }): Row {
  return (path) => {
    const parts = path.toLowerCase().split('.');
    if (parts.length === 1 && parts[0] === 'region') return partitions.region;
    if (parts.length === 1 && parts[0] === 'day') return partitions.day;
    let value: unknown = record;
    for (const part of parts) {
      if (!value || typeof value !== 'object') return undefined;
      const key = Object.keys(value).find((candidate) => candidate.toLowerCase() === part);
      value = key === undefined ? undefined : (value as Record<string, unknown>)[key];
    }
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
}

type Operand = (row: Row) => string | undefined;
type Condition = (row: Row) => boolean;

export function compileWhere(sql: string): Condition {
  const tokens = tokenize(sql);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++]!;
  const expect = (value: string) => {
    const token = next();
    if (token?.value.toUpperCase() !== value) throw new Error(`expected ${value}, got ${token?.value}`);
  };
  const operand = (): Operand => {
    const token = next();
    if (token.kind !== 'word') throw new Error(`expected a column, got ${token.value}`);
    if (token.value.toLowerCase() === 'json_extract_scalar') {
      expect('(');
      const column = next().value;
      expect(',');
      const path = next().value;
      expect(')');
      const keys = path.replace(/^\$\./, '').split('.');
      return (row) => {
        const text = row(column);
        if (text === undefined) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return undefined;
        }
        for (const key of keys) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
        return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      };
    }
    return (row) => row(token.value);
  };
  const atom = (): Condition => {
    const token = peek()!;
    if (token.value === '(') {
      next();
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.kind === 'word' && token.value.toUpperCase() === 'FALSE') {
      next();
      return () => false;
    }
    const left = operand();
    const op = next().value.toUpperCase();
    if (op === 'IN') {
      expect('(');
      const values: string[] = [];
      for (;;) {
        values.push(next().value);
        if (next().value === ')') break;
      }
      return (row) => {
        const value = left(row);
        return value !== undefined && values.includes(value);
      };
    }
    if (op === 'LIKE') {
      const pattern = next().value;
      expect('ESCAPE');
      const escape = next().value;
      let regex = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === escape) regex += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        else if (c === '%') regex += '.*';
        else if (c === '_') regex += '.';
        else regex += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      const compiled = new RegExp(`^${regex}$`, 's');
      return (row) => {
        const value = left(row);
        return value !== undefined && compiled.test(value);
      };
    }
    if (op === '>=' || op === '<=') {
      const bound = next().value;
      return (row) => {
        const value = left(row);
        return value !== undefined && (op === '>=' ? value >= bound : value <= bound);
      };
    }
    throw new Error(`unsupported operator ${op}`);
  };
  const and = (): Condition => {
    const parts = [atom()];
    while (peek()?.value.toUpperCase() === 'AND') {
      next();
      parts.push(atom());
    }
    return (row) => parts.every((part) => part(row));
  };
  const or = (): Condition => {
    const parts = [and()];
    while (peek()?.value.toUpperCase() === 'OR') {
      next();
      parts.push(and());
    }
    return (row) => parts.some((part) => part(row));
  };
  const condition = or();
  if (at !== tokens.length) throw new Error(`unparsed SQL from ${tokens[at]?.value}`);
  return condition;
}

/** Splits the hunt query into its select list and its WHERE clause. */
export function partsOf(query: string): { columns: Array<{ alias: string; expression: string }>; where: string } {
  const match = /^SELECT (.*)\nFROM \S+\nWHERE ([\s\S]*)$/.exec(query);
  if (!match) throw new Error(`not a hunt query: ${query}`);
  const columns = match[1]!.split(', ').map((column) => {
    const [expression, alias] = column.split(' AS ');
    return { expression: expression!, alias: alias ?? expression! };
  });
  return { columns, where: match[2]! };
}
