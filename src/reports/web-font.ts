// The HTML report's own font, so Hangul renders on a machine without a Korean font: the glyphs of
// Noto Sans KR that the report uses, cut out by HarfBuzz's subsetter (WebAssembly, from npm) and
// packed as WOFF2 with Node's own brotli, for a data URL. The package ships TTF only, and the WOFF2
// encoders on npm compress at brotli's slowest setting (~1 s per report); this one stores every
// table untransformed (WOFF2's null transform), which browsers read, at a few ms per report.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { brotliCompressSync, constants } from 'node:zlib';

/** The parts of harfbuzzjs's subset build used here (its raw WebAssembly exports). */
interface HarfBuzz {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  malloc(size: number): number;
  hb_blob_create(data: number, length: number, mode: number, user: number, destroy: number): number;
  hb_blob_destroy(blob: number): void;
  hb_blob_get_data(blob: number, length: number): number;
  hb_blob_get_length(blob: number): number;
  hb_face_create(blob: number, index: number): number;
  hb_face_destroy(face: number): void;
  hb_face_reference_blob(face: number): number;
  hb_set_add(set: number, value: number): void;
  hb_subset_input_create_or_fail(): number;
  hb_subset_input_destroy(input: number): void;
  hb_subset_input_get_flags(input: number): number;
  hb_subset_input_set_flags(input: number, flags: number): void;
  hb_subset_input_set(input: number, which: number): number;
  hb_subset_input_unicode_set(input: number): number;
  hb_subset_or_fail(face: number, input: number): number;
}

const HB_MEMORY_MODE_READONLY = 1;
const HB_SUBSET_SETS_DROP_TABLE_TAG = 3;
const HB_SUBSET_FLAGS_NO_HINTING = 0x1;
const HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE = 0x200;
/** Shaping tables: the report's text needs none (precomposed Hangul, Latin, symbols), as in the PDF. */
const DROPPED = ['GSUB', 'GPOS', 'GDEF', 'BASE', 'vhea', 'vmtx', 'VORG', 'DSIG'];

const tag = (s: string) => [...s].reduce((a, c) => a * 256 + c.charCodeAt(0), 0);

let hb: HarfBuzz | undefined;
const faces = new Map<string, number>();

/** The font at `path`, loaded into HarfBuzz once per process. */
function faceOf(path: string): { hb: HarfBuzz; face: number } {
  if (!hb) {
    const require = createRequire(import.meta.url);
    const wasm = readFileSync(require.resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'));
    // The project's TypeScript libraries declare no WebAssembly global; Node has it.
    const { WebAssembly: wasmApi } = globalThis as unknown as {
      WebAssembly: {
        Instance: new (m: unknown, i: object) => { exports: unknown };
        Module: new (b: Uint8Array) => unknown;
      };
    };
    hb = new wasmApi.Instance(new wasmApi.Module(wasm), {}).exports as HarfBuzz;
    hb._initialize();
  }
  let face = faces.get(path);
  if (face === undefined) {
    const bytes = readFileSync(path);
    const ptr = hb.malloc(bytes.length);
    new Uint8Array(hb.memory.buffer).set(bytes, ptr);
    const blob = hb.hb_blob_create(ptr, bytes.length, HB_MEMORY_MODE_READONLY, 0, 0);
    face = hb.hb_face_create(blob, 0);
    hb.hb_blob_destroy(blob);
    faces.set(path, face);
  }
  return { hb, face };
}

/** The TrueType font at `path` cut down to the code points of `text`. */
export function subsetFont(path: string, text: string): Buffer {
  const { hb, face } = faceOf(path);
  const input = hb.hb_subset_input_create_or_fail();
  if (input === 0) throw new Error('harfbuzz: cannot create a subset input');
  try {
    const unicodes = hb.hb_subset_input_unicode_set(input);
    for (const ch of new Set(text)) hb.hb_set_add(unicodes, ch.codePointAt(0)!);
    const drop = hb.hb_subset_input_set(input, HB_SUBSET_SETS_DROP_TABLE_TAG);
    for (const t of DROPPED) hb.hb_set_add(drop, tag(t));
    hb.hb_subset_input_set_flags(
      input,
      hb.hb_subset_input_get_flags(input) | HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE,
    );
    const subset = hb.hb_subset_or_fail(face, input);
    if (subset === 0) throw new Error('harfbuzz: subsetting failed');
    const blob = hb.hb_face_reference_blob(subset);
    const out = Buffer.from(
      new Uint8Array(hb.memory.buffer, hb.hb_blob_get_data(blob, 0), hb.hb_blob_get_length(blob)),
    );
    hb.hb_blob_destroy(blob);
    hb.hb_face_destroy(subset);
    return out;
  } finally {
    hb.hb_subset_input_destroy(input);
  }
}

/** WOFF2's variable-length integer (UIntBase128). */
function base128(n: number): number[] {
  const bytes = [n & 0x7f];
  for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
  return bytes;
}

const pad4 = (n: number) => (n + 3) & ~3;

/**
 * A TrueType font as WOFF2 (W3C WOFF2 §3–5): every table under an explicit tag, glyf and loca with
 * the null transform (version 3), the others with their null transform (version 0), all tables in
 * one brotli stream.
 */
export function toWoff2(sfnt: Buffer): Buffer {
  const count = sfnt.readUInt16BE(4);
  const tables = Array.from({ length: count }, (_, i) => {
    const r = 12 + 16 * i;
    return {
      tag: sfnt.toString('latin1', r, r + 4),
      data: sfnt.subarray(sfnt.readUInt32BE(r + 8), sfnt.readUInt32BE(r + 8) + sfnt.readUInt32BE(r + 12)),
    };
  });
  const directory = Buffer.from(
    tables.flatMap((t) => [
      0x3f | (t.tag === 'glyf' || t.tag === 'loca' ? 0xc0 : 0),
      ...Buffer.from(t.tag, 'latin1'),
      ...base128(t.data.length),
    ]),
  );
  const stream = Buffer.concat(tables.map((t) => t.data));
  // Quality 5: within 1 % of the best size here, at a hundredth of its time.
  const compressed = brotliCompressSync(stream, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: stream.length },
  });
  const length = pad4(48 + directory.length + compressed.length);
  const header = Buffer.alloc(48);
  header.write('wOF2', 0, 'latin1');
  header.writeUInt32BE(sfnt.readUInt32BE(0), 4);
  header.writeUInt32BE(length, 8);
  header.writeUInt16BE(count, 12);
  header.writeUInt32BE(12 + 16 * count + tables.reduce((s, t) => s + pad4(t.data.length), 0), 16);
  header.writeUInt32BE(compressed.length, 20);
  header.writeUInt16BE(1, 24);
  const out = Buffer.alloc(length);
  header.copy(out, 0);
  directory.copy(out, 48);
  compressed.copy(out, 48 + directory.length);
  return out;
}

/** An @font-face rule for `family` carrying the glyphs of `text` as a WOFF2 data URL. */
export function fontFace(family: string, path: string, text: string): string {
  const woff2 = toWoff2(subsetFont(path, text)).toString('base64');
  // One regular face: browsers draw bold text by emboldening it (a bold subset would double the cost).
  return `@font-face { font-family: "${family}"; src: url(data:font/woff2;base64,${woff2}) format("woff2"); }`;
}
