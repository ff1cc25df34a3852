// The manifest-only front door: `cicd-ir --version` and `cicd-ir --help` (the root help) are
// answered from package.json and oclif.manifest.json without importing @oclif/core, which alone
// costs about 2.5x a bare node start. Anything else, or a missing manifest (a dev checkout),
// returns undefined and bin/run.js hands over to oclif. The text matches oclif's own.
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);

function readJson(name) {
  try {
    return JSON.parse(readFileSync(new URL(name, root), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Words of `text` wrapped to `width`, continuation lines indented by `indent` spaces. */
function wrap(text, width, indent) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function table(rows, width) {
  const left = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, summary]) => `  ${name.padEnd(left)}  ${wrap(summary ?? '', width - left - 4, left + 4)}`).join('\n');
}

/** The text for argv when the front door can answer it alone, else undefined. */
export function frontDoor(argv) {
  const version = argv.length === 1 && argv[0] === '--version';
  const help = argv.length === 0 || (argv.length === 1 && argv[0] === '--help');
  if (!version && !help) return undefined;
  const pjson = readJson('package.json');
  const manifest = readJson('oclif.manifest.json');
  if (!pjson || !manifest || manifest.version !== pjson.version) return undefined;
  const bin = pjson.oclif?.bin ?? pjson.name;
  const versionLine = `${bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`;
  if (version) return `${versionLine}\n`;
  const width = Math.max(40, Math.min(process.stdout.isTTY ? (process.stdout.columns ?? 80) : 80, 120));
  const commands = Object.values(manifest.commands)
    .filter((command) => !command.hidden && !command.id.includes(':'))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((command) => [command.id, command.summary ?? command.description?.split('\n')[0]]);
  const topics = Object.entries(pjson.oclif?.topics ?? {})
    .filter(([name]) => !name.includes(':'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, topic]) => [name, topic.description]);
  // oclif bolds the headings on a terminal (unless NO_COLOR)
  const bold = process.stdout.isTTY && !process.env.NO_COLOR ? (text) => `\x1b[1m${text}\x1b[22m` : (text) => text;
  const sections = [pjson.description ?? '', `${bold('VERSION')}\n  ${versionLine}`, `${bold('USAGE')}\n  $ ${bin} [COMMAND]`];
  if (topics.length) sections.push(`${bold('TOPICS')}\n${table(topics, width)}`);
  sections.push(`${bold('COMMANDS')}\n${table(commands, width)}`);
  return `${sections.join('\n\n')}\n\n`;
}
