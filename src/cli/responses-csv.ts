// Reads `user_id,item_id,correct` response files for the IRT commands straight from bytes into the
// engine's index arrays: chunks of the file, one pass, ids interned from their bytes (a string is made
// once per distinct id, not per row), no object per row. Millions of rows a second, so reading never
// costs more than fitting. A file with a quoted field in its data goes through the general CSV
// parser instead (same results, slower): quoting is rare in exported response files.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { IndexedResponses } from '../irt/index.js';
import { CsvError, columnIndex, parseCsv, readCsv } from './csv.js';

const COMMA = 44;
const NEWLINE = 10;
const RETURN = 13;
const QUOTE = 34;
const SPACE = 32;
const TAB = 9;
const ZERO = 48;
const ONE = 49;
const CHUNK = 1 << 20;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Responses with the file line of each (for messages that name it). */
export interface ResponsesFile extends IndexedResponses {
  /** The file line of response t (1-based; the header is line 1). */
  lineOf(t: number): number;
}

/** Distinct byte strings → dense indices (open addressing on an FNV-1a hash; keys kept as bytes). */
class Interner {
  readonly ids: string[] = [];
  private table = new Int32Array(1 << 12);
  private keyHash = new Int32Array(1 << 10);
  private keyOff = new Int32Array(1 << 10);
  private keyLen = new Int32Array(1 << 10);
  private arena = new Uint8Array(1 << 14);
  private used = 0;

  private last = -1;

  /** The index of the id buf[start, end); the previous id again (rows grouped by person) without hashing. */
  indexOf(buf: Buffer, start: number, end: number): number {
    const last = this.last;
    if (last >= 0 && this.keyLen[last] === end - start && this.sameBytes(last, buf, start, end - start))
      return last;
    this.last = this.index(buf, start, end, fnv(buf, start, end));
    return this.last;
  }

  private index(buf: Buffer, start: number, end: number, hash: number): number {
    const len = end - start;
    let mask = this.table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const k = this.table[slot] - 1;
      if (k < 0) break;
      if (this.keyHash[k] === hash && this.keyLen[k] === len && this.sameBytes(k, buf, start, len)) return k;
    }
    const k = this.ids.length;
    if (k === this.keyHash.length) this.growKeys();
    if (this.used + len > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    this.arena.set(buf.subarray(start, end), this.used);
    this.keyHash[k] = hash;
    this.keyOff[k] = this.used;
    this.keyLen[k] = len;
    this.used += len;
    this.ids.push(buf.toString('utf8', start, end));
    // Keep the table at most half full.
    if ((k + 1) * 2 > this.table.length) this.rehash();
    else {
      mask = this.table.length - 1;
      let slot = hash & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = k + 1;
    }
    return k;
  }

  private sameBytes(k: number, buf: Buffer, start: number, len: number): boolean {
    const off = this.keyOff[k];
    for (let i = 0; i < len; i++) if (this.arena[off + i] !== buf[start + i]) return false;
    return true;
  }

  private growKeys(): void {
    const n = this.keyHash.length * 2;
    for (const name of ['keyHash', 'keyOff', 'keyLen'] as const) {
      const bigger = new Int32Array(n);
      bigger.set(this[name]);
      this[name] = bigger;
    }
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let k = 0; k < this.ids.length; k++) {
      let slot = this.keyHash[k] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
    this.table = table;
  }
}

/** Growable parallel columns of the responses read so far. */
class Columns {
  n = 0;
  person: Int32Array;
  item: Int32Array;
  correct: Uint8Array;

  constructor(capacity = 1 << 16) {
    this.person = new Int32Array(capacity);
    this.item = new Int32Array(capacity);
    this.correct = new Uint8Array(capacity);
  }

  /** Room for at least `n` rows (one allocation when the file's size says how many are coming). */
  reserve(n: number): void {
    if (n <= this.person.length) return;
    const person = new Int32Array(n);
    const item = new Int32Array(n);
    const correct = new Uint8Array(n);
    person.set(this.person.subarray(0, this.n));
    item.set(this.item.subarray(0, this.n));
    correct.set(this.correct.subarray(0, this.n));
    this.person = person;
    this.item = item;
    this.correct = correct;
  }

  push(person: number, item: number, correct: number): void {
    if (this.n === this.person.length) this.reserve(this.n * 2);
    this.person[this.n] = person;
    this.item[this.n] = item;
    this.correct[this.n] = correct;
    this.n++;
  }
}

class QuotedData extends Error {}

/** FNV-1a of buf[start, end): the interner's hash of an id. */
function fnv(buf: Buffer, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], FNV_PRIME);
  return hash;
}

const isBlank = (b: number) => b === SPACE || b === TAB;

/** Reads a response file; errors name the file and line, as the general parser's do. */
export function readResponsesFile(file: string): ResponsesFile {
  try {
    return readFast(file);
  } catch (e) {
    if (e instanceof QuotedData) return readQuoted(file);
    throw e;
  }
}

function readFast(file: string): ResponsesFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new CsvError(`${file}: cannot read (${(e as Error).message})`);
  }
  try {
    const rows = new RowReader(file, fstatSync(fd).size);
    // A Buffer, not a bare Uint8Array: an id's string is decoded straight from it, with no view object.
    let buf = Buffer.allocUnsafe(CHUNK);
    let have = 0;
    for (;;) {
      if (have === buf.length) {
        // One line longer than the buffer: make room for it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const got = readSync(fd, buf, have, buf.length - have, null);
      have += got;
      const eof = got === 0;
      const used = rows.lines(buf, have, eof);
      if (eof) break;
      buf.copyWithin(0, used, have);
      have -= used;
    }
    return rows.result();
  } finally {
    closeSync(fd);
  }
}

/**
 * Splits bytes into lines and fields in one pass; ids are interned once their line is complete. One call per
 * line rather than one loop over the whole chunk: V8 optimises the function from its calls with full
 * type feedback instead of replacing it on the stack mid-loop (and deoptimising it there).
 */
class RowReader {
  private readonly persons = new Interner();
  private readonly items = new Interner();
  private readonly out = new Columns();
  private line = 0;
  private cols: { user: number; item: number; correct: number; width: number } | undefined;
  private sized = false;
  /** Per blank line, the index of the response after it (line numbers are derived, not stored). */
  private readonly blankBefore: number[] = [];

  constructor(
    private readonly file: string,
    private readonly fileSize: number,
  ) {}

  /** Reads the complete lines of buf[0, have) (and the last one at the end of the file); returns the bytes used. */
  lines(buf: Buffer, have: number, eof: boolean): number {
    let start = 0;
    if (this.cols === undefined) {
      const end = buf.subarray(0, have).indexOf(NEWLINE);
      if (end < 0 && !eof) return 0;
      const stop = end < 0 ? have : end;
      this.line++;
      const text = buf.toString('utf8', 0, stop);
      const header = parseCsv(text, this.file).header;
      const col = columnIndex(header, ['user_id', 'item_id', 'correct'], this.file);
      this.cols = { user: col.user_id, item: col.item_id, correct: col.correct, width: header.length };
      start = Math.min(stop + 1, have);
    }
    // A quote anywhere in the data sends the file to the general parser: one native search a chunk.
    if (buf.subarray(start, have).includes(QUOTE)) throw new QuotedData();
    while (start < have) {
      const next = this.row(buf, start, have, eof);
      if (next < 0) break;
      start = next;
    }
    if (!this.sized && this.out.n > 0) {
      // Rows to come, from the bytes per row so far (+5 %): one allocation instead of doublings.
      this.sized = true;
      this.out.reserve(Math.ceil((this.fileSize / Math.min(start, have)) * this.out.n * 1.05));
    }
    return Math.min(start, have);
  }

  /**
   * Reads the line that starts at buf[start]; returns where the next one starts, or −1 when the line
   * does not end within buf[0, have) and more bytes are coming (nothing of it is kept then: ids are
   * interned only once their line is complete).
   */
  private row(buf: Buffer, start: number, have: number, eof: boolean): number {
    const { user, item: itemCol, correct: correctCol, width } = this.cols!;
    let field = 0;
    let fieldStart = start;
    let userStart = -1;
    let userEnd = -1;
    let itemStart = -1;
    let itemEnd = -1;
    let correctStart = -1;
    let correctEnd = -1;
    for (let i = start; ; i++) {
      let b: number;
      if (i < have) b = buf[i];
      else if (eof)
        b = NEWLINE; // the last line has no newline
      else return -1;
      if (b !== COMMA && b !== NEWLINE) continue;
      let fieldEnd = i;
      if (b === NEWLINE) {
        this.line++;
        // A carriage return is not part of the field at the end of a line.
        if (fieldEnd > fieldStart && buf[fieldEnd - 1] === RETURN) fieldEnd--;
        if (field === 0 && fieldEnd === start) {
          this.blankBefore.push(this.out.n);
          return i + 1;
        }
      }
      if (field === user) {
        userStart = fieldStart;
        userEnd = fieldEnd;
      } else if (field === itemCol) {
        itemStart = fieldStart;
        itemEnd = fieldEnd;
      } else if (field === correctCol) {
        correctStart = fieldStart;
        correctEnd = fieldEnd;
      }
      field++;
      fieldStart = i + 1;
      if (b !== NEWLINE) continue;
      if (field !== width)
        throw new CsvError(`${this.file}: line ${this.line}: ${field} fields, the header has ${width}`);
      if (userEnd === userStart || itemEnd === itemStart)
        throw new CsvError(`${this.file}: line ${this.line}: empty user_id or item_id`);
      this.out.push(
        this.persons.indexOf(buf, userStart, userEnd),
        this.items.indexOf(buf, itemStart, itemEnd),
        this.correctValue(buf, correctStart, correctEnd),
      );
      return i + 1;
    }
  }

  private correctValue(buf: Buffer, start: number, end: number): number {
    let s = start;
    let e = end;
    while (s < e && isBlank(buf[s])) s++;
    while (e > s && isBlank(buf[e - 1])) e--;
    if (e - s === 1 && (buf[s] === ZERO || buf[s] === ONE)) return buf[s] - ZERO;
    const text = buf.toString('utf8', s, e);
    throw new CsvError(`${this.file}: line ${this.line}: correct must be 0 or 1, got '${text}'`);
  }

  result(): ResponsesFile {
    if (this.cols === undefined) throw new CsvError(`${this.file}: empty file (no header)`);
    const { out } = this;
    if (out.n === 0) throw new CsvError(`${this.file}: no responses`);
    return {
      personIds: this.persons.ids,
      itemIds: this.items.ids,
      person: out.person.subarray(0, out.n),
      item: out.item.subarray(0, out.n),
      correct: out.correct.subarray(0, out.n),
      lineOf: (t) => t + 2 + countAtMost(this.blankBefore, t),
    };
  }
}

/** How many entries of the ascending `xs` are ≤ x. */
function countAtMost(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The general parser, for files that quote fields in their data. */
function readQuoted(file: string): ResponsesFile {
  const t = readCsv(file, ['user_id', 'item_id', 'correct']);
  if (t.rows.length === 0) throw new CsvError(`${file}: no responses`);
  const persons = new Map<string, number>();
  const items = new Map<string, number>();
  const out = new Columns();
  const indexOf = (m: Map<string, number>, id: string) => {
    let k = m.get(id);
    if (k === undefined) {
      k = m.size;
      m.set(id, k);
    }
    return k;
  };
  t.rows.forEach((r, i) => {
    const correct = r[t.col.correct].trim();
    if (correct !== '0' && correct !== '1') {
      throw new CsvError(`${file}: line ${t.lines[i]}: correct must be 0 or 1, got '${correct}'`);
    }
    const userId = r[t.col.user_id];
    const itemId = r[t.col.item_id];
    if (!userId || !itemId) throw new CsvError(`${file}: line ${t.lines[i]}: empty user_id or item_id`);
    out.push(indexOf(persons, userId), indexOf(items, itemId), Number(correct));
  });
  return {
    personIds: [...persons.keys()],
    itemIds: [...items.keys()],
    person: out.person.subarray(0, out.n),
    item: out.item.subarray(0, out.n),
    correct: out.correct.subarray(0, out.n),
    lineOf: (i) => t.lines[i],
  };
}
