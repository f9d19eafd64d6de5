// Draws a report layout as an A4 PDF with pdfmake 0.3 (pdfkit underneath): vector charts through
// pdfmake's `svg` nodes and Noto Sans KR embedded (subset) for Hangul. pdfmake 0.3's Node entry is a
// singleton (`require('pdfmake')` with setFonts / createPdf(doc).getBuffer()); it reads the two font
// files itself, and its access policies deny every other file and every URL.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CHART_FONT } from './charts.js';
import type { Block, ReportLayout, Section } from './layout.js';

/** Paths of the TTF files (pdfkit needs TrueType/OpenType; the SVG text needs real paths too). */
export interface PdfFonts {
  normal: string;
  bold: string;
}

/** The parts of pdfmake 0.3's untyped API used here. */
interface PdfMake {
  virtualfs: { writeFileSync(name: string, content: Buffer): void };
  setFonts(
    fonts: Record<string, { normal: string; bold: string; italics: string; bolditalics: string }>,
  ): void;
  setUrlAccessPolicy(policy: (url: string) => boolean): void;
  setLocalAccessPolicy(policy: (path: string) => boolean): void;
  createPdf(doc: DocDefinition): { getBuffer(): Promise<Buffer> };
}
type Node = Record<string, unknown> | string;
type DocDefinition = Record<string, unknown>;

/** The parts of fontkit (pdfkit's font parser) that the font cache touches. */
interface FontkitGlyph {
  id: number;
  advanceWidth: number;
  codePoints: number[];
}
interface FontkitFont {
  postscriptName: string;
  glyphForCodePoint(codePoint: number): FontkitGlyph;
  layout(text: string, features?: unknown): unknown;
}
interface Fontkit {
  create(bytes: Uint8Array, family?: string): FontkitFont;
}

/** The report fonts, parsed once per process. */
const parsedFonts: { bytes: Buffer; font: FontkitFont }[] = [];

const require = createRequire(import.meta.url);
const pdfkitPath = createRequire(require.resolve('pdfmake')).resolve('pdfkit');
const fontkitPath = createRequire(pdfkitPath).resolve('fontkit');

/**
 * pdfkit parses a font anew for every document (fontkit.create on the file's bytes, with OpenType
 * shaping on every text run): that was ~70 % of a report's time. So pdfkit is loaded with a fontkit
 * whose `create` returns the font parsed once per process for the report fonts' bytes; every
 * document still embeds its own subset, and any other font is parsed as before.
 */
function loadPdfmake(): PdfMake {
  if (require.cache[pdfkitPath]) throw new Error('pdfkit was loaded before the report font cache');
  // Loaded on the first render, not with the module: a server that never renders keeps ~5 MB less heap.
  fontkit = require(fontkitPath) as Fontkit;
  const create = (bytes: Uint8Array, family?: string) =>
    parsedFonts.find((p) => p.bytes === bytes || p.bytes.equals(bytes))?.font ??
    fontkit.create(bytes, family);
  require.cache[fontkitPath]!.exports = Object.create(fontkit, { create: { value: create } });
  const pm = require('pdfmake') as PdfMake;
  measureFromRootTag(require('pdfmake/js/SVGMeasure.js').default as SvgMeasureClass);
  return pm;
}

interface SvgMeasureClass {
  prototype: {
    measureSVG(svg: unknown): { width?: number; height?: number };
    writeDimensions(svg: unknown, dims: { width: number; height: number }): unknown;
  };
}

/**
 * pdfmake parses every chart's SVG twice as XML (to read its size, then to write the drawn size back
 * into it) before svg-to-pdfkit parses it a third time: ~8 % of a report. Our charts always carry
 * width, height and viewBox on the root element, so both steps work on that tag alone; any other SVG
 * goes the original way.
 */
function measureFromRootTag(SVGMeasure: SvgMeasureClass): void {
  const { measureSVG, writeDimensions } = SVGMeasure.prototype;
  const root = (svg: unknown) => {
    const tag = typeof svg === 'string' ? /^<svg [^>]*>/.exec(svg)?.[0] : undefined;
    const width = tag && /\swidth="(\d+(?:\.\d+)?)"/.exec(tag);
    const height = tag && /\sheight="(\d+(?:\.\d+)?)"/.exec(tag);
    return tag && width && height && /\sviewBox="/.test(tag)
      ? { tag, width: Number(width[1]), height: Number(height[1]) }
      : undefined;
  };
  SVGMeasure.prototype.measureSVG = function (svg) {
    const r = root(svg);
    return r ? { width: r.width, height: r.height } : measureSVG.call(this, svg);
  };
  SVGMeasure.prototype.writeDimensions = function (svg, dims) {
    const r = root(svg);
    if (!r) return writeDimensions.call(this, svg, dims);
    const tag = r.tag
      .replace(/(\swidth=")[^"]*"/, `$1${dims.width}"`)
      .replace(/(\sheight=")[^"]*"/, `$1${dims.height}"`);
    return tag + (svg as string).slice(r.tag.length);
  };
}

let pdfmake: PdfMake | undefined;
/** fontkit, loaded by loadPdfmake. */
let fontkit: Fontkit;
let configuredFor: PdfFonts | null = null;

/**
 * Text layout without OpenType shaping: one glyph per code point, advances from the font's metrics.
 * Precomposed Hangul, Latin, digits and the report's symbols need no substitution or positioning
 * (Noto Sans KR maps each to one glyph of its own).
 */
function plainLayout(font: FontkitFont) {
  return (text: string) => {
    const glyphs: FontkitGlyph[] = [];
    const positions: { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number }[] = [];
    for (const ch of text) {
      const glyph = font.glyphForCodePoint(ch.codePointAt(0)!);
      glyphs.push(glyph);
      positions.push({ xAdvance: glyph.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 });
    }
    // pdfkit scales the positions after the call, so the width is summed when it is read.
    return {
      glyphs,
      positions,
      get advanceWidth() {
        return positions.reduce((w, p) => w + p.xAdvance, 0);
      },
    };
  };
}

/**
 * Parses the fonts and hands their bytes to pdfmake's virtual file system under their PostScript
 * names. The name matters: pdfkit registers an opened font under it, so the chart text (which asks
 * for the font by the same name) reuses the body text's font instead of reading the 6 MB file again.
 * No document reads a file.
 */
function configure(fonts: PdfFonts): PdfMake {
  const pm = pdfmake ?? loadPdfmake();
  pdfmake = pm;
  if (configuredFor?.normal === fonts.normal && configuredFor.bold === fonts.bold) return pm;
  const [normal, bold] = [fonts.normal, fonts.bold].map((path) => {
    const bytes = readFileSync(path);
    const font = fontkit.create(bytes);
    font.layout = plainLayout(font);
    parsedFonts.push({ bytes, font });
    pm.virtualfs.writeFileSync(font.postscriptName, bytes);
    return font.postscriptName;
  });
  pm.setFonts({ [CHART_FONT]: { normal, bold, italics: normal, bolditalics: bold } });
  pm.setUrlAccessPolicy(() => false);
  pm.setLocalAccessPolicy(() => false);
  configuredFor = { ...fonts };
  return pm;
}

const PAGE = { width: 595.28, margin: 40 };
const TEXT_WIDTH = PAGE.width - 2 * PAGE.margin;
const INK = '#1f2933';
const MUTED = '#52606d';

function block(b: Block): Node {
  switch (b.kind) {
    case 'paragraph':
      return b.note
        ? {
            table: { widths: ['*'], body: [[{ text: b.text, margin: [6, 4, 6, 4] }]] },
            layout: {
              fillColor: '#fff8e1',
              hLineWidth: () => 0,
              vLineWidth: (i: number) => (i === 0 ? 3 : 0),
              vLineColor: () => '#b7791f',
            },
            margin: [0, 2, 0, 8],
          }
        : { text: b.text, margin: [0, 0, 0, 6] };
    case 'list':
      return { ul: b.items, margin: [0, 0, 0, 6] };
    case 'chart': {
      const width = Math.min(TEXT_WIDTH * b.size, b.chart.width);
      const svg = { svg: b.chart.svg, width, font: CHART_FONT, alignment: b.size < 1 ? 'center' : 'left' };
      return b.caption
        ? {
            stack: [svg, { text: b.caption, fontSize: 7.5, color: MUTED, margin: [0, 2, 0, 0] }],
            margin: [0, 2, 0, 8],
            unbreakable: true,
          }
        : { ...svg, margin: [0, 2, 0, 8] };
    }
    case 'table': {
      const cell = (text: string, i: number, head: boolean) => {
        const c = b.columns[i];
        return {
          text,
          bold: head,
          noWrap: !c.muted && i > 0,
          alignment: c.numeric ? 'right' : 'left',
          ...(c.muted && !head ? { fontSize: 7, color: MUTED } : {}),
        };
      };
      return {
        table: {
          headerRows: 1,
          // The explanation column, else the first, takes the remaining width.
          widths: b.columns.map((c, i) =>
            (b.columns.some((x) => x.muted) ? c.muted : i === 0) ? '*' : 'auto',
          ),
          body: [
            b.columns.map((c, i) => cell(c.title, i, true)),
            ...b.rows.map((r) => r.map((t, i) => cell(t, i, false))),
          ],
          dontBreakRows: true,
        },
        layout: 'lightHorizontalLines',
        fontSize: 8.5,
        margin: [0, 2, 0, 8],
      };
    }
  }
}

/**
 * A section's heading stays with its blocks up to its first chart (or its first block), which are
 * always shorter than a page: paragraphs, the KPI table, the capped topic chart, the list. The topic
 * table breaks across pages with its header row repeated; pdfmake keeps only the first page of an
 * unbreakable block, so nothing longer is marked so.
 */
function section(s: Section): Node {
  const nodes = s.blocks.map(block);
  const keep = s.blocks.findIndex((b) => b.kind === 'chart') + 1 || 1;
  const heading = [
    { text: s.title, style: 'h2' },
    {
      canvas: [{ type: 'line', x1: 0, y1: 0, x2: TEXT_WIDTH, y2: 0, lineWidth: 1.2, lineColor: INK }],
      margin: [0, 0, 0, 6],
    },
  ];
  return {
    stack: [{ stack: [...heading, ...nodes.slice(0, keep)], unbreakable: true }, ...nodes.slice(keep)],
  };
}

/** The pdfmake document of a layout (exported for inspection in tests). */
export function pdfDocument(layout: ReportLayout): DocDefinition {
  const metaRows = layout.meta.map(([k, v]) => [{ text: k, color: MUTED }, { text: v }]);
  return {
    pageSize: 'A4',
    pageMargins: [PAGE.margin, PAGE.margin, PAGE.margin, 48],
    language: layout.locale === 'ko' ? 'ko-KR' : 'en',
    // A fixed creation date makes the bytes depend on the data only; pdfkit derives the file id from
    // the info, so the subject (learner, week, edition) makes it fixed and distinct per document.
    info: {
      title: layout.title,
      subject: layout.subject,
      author: 'Seedtest analytics',
      creator: 'Seedtest analytics',
      creationDate: new Date(layout.generatedAt),
    },
    defaultStyle: { font: CHART_FONT, fontSize: 9.5, color: INK, lineHeight: 1.25 },
    styles: {
      h1: { fontSize: 20, bold: true, margin: [0, 0, 0, 6] },
      h2: { fontSize: 13, bold: true, margin: [0, 10, 0, 2] },
    },
    footer: (page: number, pages: number) => ({
      text: `${layout.title} · ${page} / ${pages}`,
      alignment: 'center',
      fontSize: 7.5,
      color: MUTED,
    }),
    content: [
      { text: layout.title, style: 'h1' },
      {
        table: { widths: ['auto', '*'], body: metaRows },
        layout: { defaultBorder: false, paddingTop: () => 1, paddingBottom: () => 1 },
        fontSize: 9,
        margin: [0, 0, 0, 6],
      },
      ...(layout.notice ? [block({ kind: 'paragraph', text: layout.notice, note: true })] : []),
      ...layout.sections.map(section),
    ],
  };
}

export async function renderPdf(layout: ReportLayout, fonts: PdfFonts): Promise<Buffer> {
  return configure(fonts).createPdf(pdfDocument(layout)).getBuffer();
}
