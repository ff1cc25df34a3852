/**
 * Just enough of the GitHub Actions expression language to answer one question: which
 * secrets does an expression read? A regex over `secrets.X` misses `secrets['X']` and cannot
 * tell `toJSON(secrets)` (every secret) from `toJSON(secrets.X)` (one), nor `secrets` the
 * context from `inputs.secrets` or a quoted 'secrets' string, so this tokenizes.
 */

/** What one expression reads from the `secrets` context. */
export interface SecretReads {
  /** Secret names read by name, upper-cased (GitHub secret names are case-insensitive). */
  names: string[];
  /** True when the whole context is read (`toJSON(secrets)`, `secrets[matrix.x]`, `secrets.*`). */
  all: boolean;
}

type Token =
  | { type: 'ident'; value: string }
  | { type: 'string'; value: string }
  | { type: 'punct'; value: string }
  | { type: 'other'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i]!;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      // Strings are single-quoted; '' is an escaped quote.
      let value = '';
      i += 1;
      while (i < expression.length) {
        if (expression[i] === "'" && expression[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (expression[i] === "'") {
          i += 1;
          break;
        } else {
          value += expression[i];
          i += 1;
        }
      }
      tokens.push({ type: 'string', value });
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < expression.length && /[A-Za-z0-9_-]/.test(expression[j]!)) j += 1;
      tokens.push({ type: 'ident', value: expression.slice(i, j) });
      i = j;
    } else if ('.[]()*,'.includes(ch)) {
      tokens.push({ type: 'punct', value: ch });
      i += 1;
    } else {
      tokens.push({ type: 'other', value: ch });
      i += 1;
    }
  }
  return tokens;
}

/** Reads of the `secrets` context in one expression body (the text between `${{` and `}}`). */
export function secretReads(expression: string): SecretReads {
  const tokens = tokenize(expression);
  const names = new Set<string>();
  let all = false;
  for (let k = 0; k < tokens.length; k += 1) {
    const token = tokens[k]!;
    if (token.type !== 'ident' || token.value.toLowerCase() !== 'secrets') continue;
    const previous = tokens[k - 1];
    // `inputs.secrets`, `needs.x.outputs.secrets`: a property named secrets, not the context.
    if (previous?.type === 'punct' && previous.value === '.') continue;
    const next = tokens[k + 1];
    const after = tokens[k + 2];
    if (next?.type === 'punct' && next.value === '.' && after?.type === 'ident') {
      names.add(after.value.toUpperCase());
    } else if (
      next?.type === 'punct' &&
      next.value === '[' &&
      after?.type === 'string' &&
      tokens[k + 3]?.type === 'punct' &&
      tokens[k + 3]?.value === ']'
    ) {
      names.add(after.value.toUpperCase());
    } else {
      // `secrets.*`, `secrets[matrix.name]`, `toJSON(secrets)`, `format('{0}', secrets)`:
      // the expression can read any secret.
      all = true;
    }
  }
  return { names: [...names].sort(), all };
}

/**
 * The expression bodies inside `${{ ... }}` in a string. A `}}` inside a quoted string does
 * not close the expression.
 */
export function expressionsIn(text: string): string[] {
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) break;
    let i = start + 3;
    let inString = false;
    let end = -1;
    while (i < text.length) {
      const ch = text[i];
      if (inString) {
        if (ch === "'" && text[i + 1] === "'") i += 1;
        else if (ch === "'") inString = false;
      } else if (ch === "'") {
        inString = true;
      } else if (ch === '}' && text[i + 1] === '}') {
        end = i;
        break;
      }
      i += 1;
    }
    if (end < 0) {
      // Unterminated: GitHub rejects the workflow; read what is there rather than miss a reference.
      found.push(text.slice(start + 3));
      break;
    }
    found.push(text.slice(start + 3, end));
    from = end + 2;
  }
  return found;
}

/** True when a string holds an expression, so its value is only known at run time. */
export function hasExpression(text: string): boolean {
  return text.includes('${{');
}
