/**
 * The User-Agent cicd-ir sends to GitHub and npm: `cicd-ir/<version> (incident <name>)`. The
 * incident name is free text from `--incident` (an em dash, accents, a line break): an HTTP
 * header takes visible ASCII only, and fetch refuses the whole request otherwise, so every
 * GitHub call of the run would fail. Anything outside printable ASCII, and the characters that
 * would end the comment or start an escape (`(`, `)`, `\`, `%`), is percent-encoded (UTF-8),
 * so the name still reads back unambiguously in GitHub's and npm's audit logs.
 */
export function cicdIrUserAgent(incident: string | undefined): string {
  return `cicd-ir/0.1.0 (incident ${headerText(incident || 'none')})`;
}

/** Text made safe for an HTTP header value: printable ASCII kept, the rest percent-encoded. Linear. */
export function headerText(text: string): string {
  return text.replace(/[^\x20-\x24\x26\x27\x2a-\x5b\x5d-\x7e]+/gu, (run) =>
    Array.from(new TextEncoder().encode(run), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
