// The environment a command reads, for its --help: names, defaults and notes as .env.example gives
// them (the one list of every variable; a test keeps it equal to what src/config.ts reads).
import { readFileSync } from 'node:fs';

/**
 * `NAME=default` lines of .env.example with the comment lines just above each, and the families of
 * variables it describes in a comment of their own (`# SCHEDULE_<JOB_NAME>=<cron> what it does`).
 */
function documented(): Map<string, { value: string; note: string }> {
  const out = new Map<string, { value: string; note: string }>();
  let note: string[] = [];
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    const family = /^#\s*([A-Z][A-Z0-9_]*<[A-Z_]+>)=\S+\s+(.*)$/.exec(line);
    if (m) {
      out.set(m[1]!, { value: m[2]!, note: note.join(' ') });
      note = [];
    } else if (family) {
      out.set(family[1]!, { value: '', note: family[2]! });
      note = [];
    } else if (line.startsWith('#')) note.push(line.replace(/^#\s*/, ''));
    else note = [];
  }
  return out;
}

/** The help section listing `names` (all variables when omitted) with their defaults. */
export function environmentHelp(names?: readonly string[]): string {
  const vars = documented();
  const listed = names ?? [...vars.keys()];
  const width = Math.max(...listed.map((name) => name.length));
  const rows = listed.map((name) => {
    const v = vars.get(name);
    const value = v?.value ? `default ${v.value}` : 'unset';
    return `  ${name.padEnd(width)} ${value}${v?.note ? ` — ${v.note}` : ''}`;
  });
  return `\nEnvironment (.env.example lists every variable):\n${rows.join('\n')}\n`;
}
