// Reads `user_id,item_id,correct` response files for the IRT commands straight from bytes into the
// engine's index arrays: chunks of the file, one pass, ids interned from their bytes (a string is made
// once per distinct id, not per row), no object per row. Millions of rows a second, so reading never
// costs more than fitting. A file with a quoted field in its data goes through the general CSV
// parser instead (same results, slower): quoting is rare in exported response files.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import type { IndexedResponses } from '../irt/index.js';
import { startModuleWorker } from '../threads.js';
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

  /** The ids as bytes (the arena and each id's place in it). */
  bytes(): InternedIds {
    return { arena: this.arena, off: this.keyOff, len: this.keyLen, count: this.ids.length };
  }

  /** Interns another interner's ids; returns their indices here. */
  internAll(other: InternedIds): Int32Array {
    const bytes = Buffer.from(other.arena.buffer, other.arena.byteOffset, other.arena.byteLength);
    const map = new Int32Array(other.count);
    for (let k = 0; k < other.count; k++)
      map[k] = this.indexOf(bytes, other.off[k], other.off[k] + other.len[k]);
    return map;
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

/** The columns of the header line and where the data start. */
export interface Layout {
  user: number;
  item: number;
  correct: number;
  width: number;
  dataStart: number;
}

/** From this size on a worker thread reads the last 45 % of the file (starting one costs 30–90 ms). */
const PARALLEL_MIN_BYTES = 16 << 20;
/**
 * The share of the file this thread reads when a worker reads the rest: more than half, because
 * the worker starts 50–90 ms later and this thread appends the worker's rows afterwards (at an even
 * split this thread waited ~0.1 s of its ~0.5 s on a 4 M-row file; at 0.6 the worker waited).
 */
const FIRST_PART = 0.55;
/** How long the reader waits for its worker to start before reading that part itself. */
const WORKER_START_MS = 5_000;

function readFast(file: string): ResponsesFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new CsvError(`${file}: cannot read (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const layout = readHeader(fd, file);
    const split = size >= PARALLEL_MIN_BYTES ? lineStartAfter(fd, Math.floor(size * FIRST_PART), size) : -1;
    if (split <= layout.dataStart) {
      const rows = new RowReader(file, layout, size, 1);
      readRange(fd, rows, layout.dataStart, size);
      return rows.result();
    }
    const second = SecondPart.start(file, layout, split, size);
    const rows = new RowReader(file, layout, size, 1);
    let part: ReturnType<SecondPart['result']>;
    try {
      const started = performance.now();
      readRange(fd, rows, layout.dataStart, split);
      part = second.result(performance.now() - started);
    } finally {
      second.close(); // also when the first part fails: the worker's work is not wanted then
    }
    if (part === 'quoted') throw new QuotedData();
    if (part === 'read-here') readRange(fd, rows, split, size);
    else rows.append(part);
    return rows.result();
  } finally {
    closeSync(fd);
  }
}

/** Parses the header line; an empty file has none. */
function readHeader(fd: number, file: string): Layout {
  let buf = Buffer.allocUnsafe(1 << 16);
  let have = 0;
  for (;;) {
    const got = readSync(fd, buf, have, buf.length - have, have);
    have += got;
    const end = buf.subarray(0, have).indexOf(NEWLINE);
    if (end >= 0 || got === 0) {
      if (have === 0) throw new CsvError(`${file}: empty file (no header)`);
      const stop = end >= 0 ? end : have;
      const header = parseCsv(buf.toString('utf8', 0, stop), file).header;
      const col = columnIndex(header, ['user_id', 'item_id', 'correct'], file);
      return {
        user: col.user_id,
        item: col.item_id,
        correct: col.correct,
        width: header.length,
        dataStart: Math.min(stop + 1, have),
      };
    }
    if (have === buf.length) buf = doubled(buf);
  }
}

/** A buffer twice as long holding buf's bytes: for a line longer than the buffer. */
function doubled(buf: Buffer): Buffer<ArrayBuffer> {
  const bigger = Buffer.allocUnsafe(buf.length * 2);
  bigger.set(buf);
  return bigger;
}

/** Where the first line that starts after byte `at` starts, or −1 when none does within 64 KB. */
function lineStartAfter(fd: number, at: number, size: number): number {
  const buf = Buffer.allocUnsafe(Math.min(1 << 16, size - at));
  const got = readSync(fd, buf, 0, buf.length, at);
  const newline = buf.subarray(0, got).indexOf(NEWLINE);
  return newline < 0 || at + newline + 1 >= size ? -1 : at + newline + 1;
}

/** Feeds the bytes [from, to) of the file to `rows` in chunks of whole lines. */
function readRange(fd: number, rows: RowReader, from: number, to: number): void {
  // A Buffer, not a bare Uint8Array: an id's string is decoded straight from it, with no view object.
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, to - from + 1));
  let have = 0;
  let at = from;
  for (;;) {
    // One line longer than the buffer (or no room for the newline the last line may lack).
    if (have === buf.length) buf = doubled(buf);
    const got = readSync(fd, buf, have, Math.min(buf.length - have, to - at), at);
    at += got;
    have += got;
    const end = got === 0;
    const used = rows.lines(buf, have, end);
    if (end) return;
    buf.copyWithin(0, used, have);
    have -= used;
  }
}

/** What a worker hands back: its rows with ids local to it, and the ids as bytes. */
export interface Part {
  n: number;
  person: Int32Array;
  item: Int32Array;
  correct: Uint8Array;
  persons: InternedIds;
  items: InternedIds;
  blankBefore: number[];
}

/** The ids of an interner as bytes: id k is arena[off[k], off[k] + len[k]). */
export interface InternedIds {
  arena: Uint8Array;
  off: Int32Array;
  len: Int32Array;
  count: number;
}

/** The worker that reads the last part of a large file while this thread reads the first. */
class SecondPart {
  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly control: Int32Array,
  ) {}

  static start(file: string, layout: Layout, from: number, to: number): SecondPart {
    const control = new Int32Array(new SharedArrayBuffer(8)); // [done, started]
    const { port1, port2 } = new MessageChannel();
    const worker = startModuleWorker(import.meta.url, 'responses-csv-worker', {
      workerData: { file, layout, from, to, control, port: port2 } satisfies PartJob,
      transferList: [port2],
    });
    worker.unref();
    worker.on('error', () => {}); // seen as a part that never comes
    return new SecondPart(worker, port1, control);
  }

  /**
   * The worker's part (waiting for it), 'quoted', or 'read-here': no worker, or a bad line in the
   * second part, whose message needs the file's line number that only this thread knows.
   * `firstPartMs`, this thread's time for its part, bounds the wait: a worker stopped from
   * outside (its heap limit) never answers.
   */
  result(firstPartMs: number): PartMessage {
    if (Atomics.wait(this.control, 1, 0, WORKER_START_MS) === 'timed-out') return 'read-here';
    if (Atomics.wait(this.control, 0, 0, WORKER_START_MS + 10 * firstPartMs) === 'timed-out')
      return 'read-here';
    return (receiveMessageOnPort(this.port)?.message as PartMessage | undefined) ?? 'read-here';
  }

  close(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/** What the worker is given (responses-csv-worker.ts). */
export interface PartJob {
  file: string;
  layout: Layout;
  from: number;
  to: number;
  control: Int32Array;
  port: MessagePort;
}

export type PartMessage = Part | 'quoted' | 'read-here';

/** The worker's side: reads [from, to) with its own interners and posts the part back. */
export function readPart(job: PartJob): void {
  Atomics.store(job.control, 1, 1);
  Atomics.notify(job.control, 1);
  let message: PartMessage;
  let fd = -1;
  try {
    fd = openSync(job.file, 'r');
    const rows = new RowReader(job.file, job.layout, job.to - job.from, 0);
    readRange(fd, rows, job.from, job.to);
    message = rows.part();
  } catch (e) {
    message = e instanceof QuotedData ? 'quoted' : 'read-here';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  const transfer =
    typeof message === 'string'
      ? []
      : [message.person.buffer, message.item.buffer, message.correct.buffer, message.persons.arena.buffer];
  job.port.postMessage(message, transfer as ArrayBuffer[]);
  Atomics.store(job.control, 0, 1);
  Atomics.notify(job.control, 0);
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
  private sized = false;
  /** Per blank line, the index of the response after it (line numbers are derived, not stored). */
  private readonly blankBefore: number[] = [];

  /** `line`: the file line before the first one read here (0 where unknown: a worker's). */
  constructor(
    private readonly file: string,
    private readonly cols: Layout,
    private readonly bytes: number,
    private line: number,
  ) {}

  /**
   * Reads the complete lines of buf[0, have) (at the end of the range, the last one too; buf must then
   * have a byte of room after `have`); returns the bytes used.
   */
  lines(buf: Buffer, have: number, end: boolean): number {
    let limit = have;
    if (end && have > 0 && buf[have - 1] !== NEWLINE) buf[limit++] = NEWLINE; // the last line has none
    // Only complete lines from here: the scan needs no end-of-buffer test per byte.
    limit = buf.subarray(0, limit).lastIndexOf(NEWLINE) + 1;
    // A quote anywhere in the data sends the file to the general parser: one native search a chunk.
    if (buf.subarray(0, limit).includes(QUOTE)) throw new QuotedData();
    let start = 0;
    while (start < limit) start = this.row(buf, start);
    if (!this.sized && this.out.n > 0) {
      // Rows to come, from the bytes per row so far (+5 %): one allocation instead of doublings.
      this.sized = true;
      this.out.reserve(Math.ceil((this.bytes / limit) * this.out.n * 1.05));
    }
    return limit;
  }

  /** Reads the line that starts at buf[start] and ends with a newline; returns where the next one starts. */
  private row(buf: Buffer, start: number): number {
    const { user, item: itemCol, correct: correctCol, width } = this.cols;
    let field = 0;
    let fieldStart = start;
    let userStart = -1;
    let userEnd = -1;
    let itemStart = -1;
    let itemEnd = -1;
    let correctStart = -1;
    let correctEnd = -1;
    for (let i = start; ; i++) {
      const b = buf[i];
      // Letters and digits, most of the bytes, are above the comma: one test for them.
      if (b > COMMA || (b !== COMMA && b !== NEWLINE)) continue;
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

  /** A worker's rows after these, its ids interned here (in their order of first appearance). */
  append(part: Part): void {
    const personOf = this.persons.internAll(part.persons);
    const itemOf = this.items.internAll(part.items);
    const base = this.out.n;
    for (const b of part.blankBefore) this.blankBefore.push(base + b);
    this.out.reserve(base + part.n);
    const { person, item, correct } = this.out;
    for (let t = 0; t < part.n; t++) {
      person[base + t] = personOf[part.person[t]];
      item[base + t] = itemOf[part.item[t]];
    }
    correct.set(part.correct.subarray(0, part.n), base);
    this.out.n = base + part.n;
  }

  /** The rows read here with their ids as bytes, for the thread that asked for them. */
  part(): Part {
    const { out } = this;
    return {
      n: out.n,
      person: out.person,
      item: out.item,
      correct: out.correct,
      persons: this.persons.bytes(),
      items: this.items.bytes(),
      blankBefore: this.blankBefore,
    };
  }

  result(): ResponsesFile {
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
