/**
 * Attacker text made safe to show. Every string cicd-ir prints or writes for a human may have
 * come from outside (a secret name in a log dump, a CloudTrail user agent, a branch name, a
 * playbook): a terminal interprets ESC/CSI/OSC sequences (clear the screen, recolour, set the
 * title, write a hyperlink), C1 bytes (U+009B is CSI on its own), CR and backspace (overwrite
 * what was printed), and an editor or browser reorders text around bidi overrides. This is the
 * one function that turns each such character into visible text (`\x1b`, `\u202e`) so it is
 * shown, never interpreted. One pass over a character class: linear time whatever the input.
 */

/**
 * Characters shown as escapes: C0 controls except TAB and LF, DEL, C1 controls, the bidi
 * marks, embeddings, overrides and isolates, the line and paragraph separators (a line break
 * to some readers) and the invisible zero-width space, word joiner and BOM.
 */
const UNSAFE_MULTILINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;
/** The same plus LF: a field (a name, a user agent) is one line, so it cannot print a fake line of its own. */
const UNSAFE_LINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;
/** What JSON.stringify leaves raw that a terminal or an editor acts on (it escapes U+0000-U+001F itself). */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function jsonEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * One field of outside text, made safe for a terminal, Markdown, CSV or HTML: every control
 * character, escape sequence introducer, bidi override and line break shown as `\xNN` /
 * `\uNNNN`. TAB is kept (harmless). Use it for names, summaries, details, user agents.
 */
export function safeText(value: unknown): string {
  return String(value ?? '').replace(UNSAFE_LINE, visible);
}

/**
 * A block of text that may hold line breaks of its own (a whole summary, a log excerpt): as
 * safeText() but LF is kept. CR is still shown (`\x0d`): it would let a line overwrite itself.
 */
export function safeBlock(value: unknown): string {
  return String(value ?? '').replace(UNSAFE_MULTILINE, visible);
}

/**
 * JSON for a terminal or an editor: the same document (a JSON parser reads the same values),
 * with C1 controls and bidi characters written as `\uNNNN` escapes, which JSON.stringify would
 * leave raw. `JSON.parse(safeJson(v))` deep-equals `JSON.parse(JSON.stringify(v))`.
 */
export function safeJson(value: unknown, indent: number | undefined = 2): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(UNSAFE_IN_JSON, jsonEscape);
}

/** The same for text that is already JSON (a JSONL line, say). */
export function safeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, jsonEscape);
}
