// Minimal RFC 4180 CSV reading and writing for the file-based commands. Errors name the file and line.
import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../user-error.js';

export class CsvError extends UserError {
  override name = 'CsvError';
}

export interface CsvTable {
  header: string[];
  /** Data rows, fields by column index. */
  rows: string[][];
  /** 1-based line number of each data row in the file. */
  lines: number[];
  file: string;
}

/** Parses CSV text (quoted fields, "" escapes, CRLF); blank lines are skipped. */
export function parseCsv(text: string, file: string): CsvTable {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let sawAny = false;
  const endRecord = () => {
    const blank = !sawAny && fields.length === 0 && field === '';
    fields.push(field);
    if (!blank) records.push({ fields, line: start });
    fields = [];
    field = '';
    sawAny = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
      sawAny = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      sawAny = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += ch;
  }
  if (quoted) throw new CsvError(`${file}: line ${start}: unterminated quoted field`);
  endRecord();
  if (records.length === 0) throw new CsvError(`${file}: empty file (no header)`);
  const [head, ...rest] = records;
  const header = head.fields.map((h) => h.trim());
  for (const r of rest) {
    if (r.fields.length !== header.length) {
      throw new CsvError(
        `${file}: line ${r.line}: ${r.fields.length} fields, the header has ${header.length}`,
      );
    }
  }
  return { header, rows: rest.map((r) => r.fields), lines: rest.map((r) => r.line), file };
}

/** Reads a CSV file and checks that it has the required columns; returns the column indices too. */
export function readCsv(
  file: string,
  required: readonly string[],
): CsvTable & { col: Record<string, number> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CsvError(`${file}: cannot read (${(e as Error).message})`);
  }
  const table = parseCsv(text, file);
  return { ...table, col: columnIndex(table.header, required, file) };
}

/** Column name → index, after checking that the required columns are there and no name is repeated. */
export function columnIndex(
  header: readonly string[],
  required: readonly string[],
  file: string,
): Record<string, number> {
  const col: Record<string, number> = {};
  header.forEach((h, i) => {
    if (col[h] !== undefined) throw new CsvError(`${file}: line 1: column '${h}' appears twice`);
    col[h] = i;
  });
  const missing = required.filter((c) => col[c] === undefined);
  if (missing.length) throw new CsvError(`${file}: line 1: missing column(s) ${missing.join(', ')}`);
  return col;
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Writes a header and rows; numbers are written with full precision (shortest round trip). */
export function writeCsv(
  file: string,
  header: readonly string[],
  rows: Iterable<readonly (string | number)[]>,
): void {
  const out = [header.map(quote).join(',')];
  for (const r of rows) out.push(r.map((v) => (typeof v === 'number' ? String(v) : quote(v))).join(','));
  writeFileSync(file, `${out.join('\n')}\n`);
}
