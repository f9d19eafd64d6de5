// Draws a report layout as one self-contained HTML file: inline CSS and SVG, no scripts, and a
// Content-Security-Policy that forbids any request, so an opened report never reaches the network.
// Every text of the layout is escaped here; chart SVGs come escaped from charts.ts. The file carries
// its own font (the glyphs it uses), so it renders alike on every machine.
import { CHART_FONT, CHART_WIDTH } from './charts.js';
import type { Block, ReportLayout, Section } from './layout.js';
import { fontFace } from './web-font.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { --ink: #1f2933; --muted: #52606d; --rule: #cbd2d9; --note: #fff8e1; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.55 "${CHART_FONT}", sans-serif; }
main { max-width: 820px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 10px; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
p.note { background: var(--note); border-left: 4px solid #b7791f; padding: 8px 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 14px; word-break: keep-all; }
.scroll, figure { overflow-x: auto; }
th, td.num, td:first-child { white-space: nowrap; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { border-bottom: 2px solid var(--ink); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.help { color: var(--muted); font-size: 13px; min-width: 16em; }
figure { margin: 10px auto 14px; }
figure > svg { display: block; width: 100%; height: auto; }
/* On a phone a full-width chart keeps a legible size and scrolls sideways. */
figure.wide > svg { min-width: 560px; }
@media (max-width: 600px) { figure[class] { max-width: 100% !important; } main { padding: 20px 14px 40px; } }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
ul.recs li { margin: 4px 0; }
@page { size: A4; margin: 14mm; }
@media print { main { padding: 0; max-width: none; } section { break-inside: avoid; } }
`;

function block(b: Block): string {
  switch (b.kind) {
    case 'paragraph':
      return `<p${b.note ? ' class="note"' : ''}>${escapeHtml(b.text)}</p>`;
    case 'list':
      return `<ul class="recs">${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
    case 'chart': {
      const width = Math.round(b.size * 100);
      const caption = b.caption ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : '';
      const classes = [`w${width}`, ...(b.chart.width >= CHART_WIDTH ? ['wide'] : [])].join(' ');
      return `<figure class="${classes}" role="img" aria-label="${escapeHtml(b.alt)}">${b.chart.svg}${caption}</figure>`;
    }
    case 'table': {
      const cls = (i: number) => {
        const c = b.columns[i];
        return c.numeric ? ' class="num"' : c.muted ? ' class="help"' : '';
      };
      const head = b.columns
        .map((c) => `<th${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.title)}</th>`)
        .join('');
      const rows = b.rows
        .map((r) => `<tr>${r.map((cell, i) => `<td${cls(i)}>${escapeHtml(cell)}</td>`).join('')}</tr>`)
        .join('');
      // Wide tables scroll sideways on a phone instead of squeezing their columns.
      return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
    }
  }
}

function section(s: Section): string {
  return `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>${s.blocks.map(block).join('\n')}</section>`;
}

/** The report as one HTML file, with the glyphs it uses from the TrueType font at `fontPath`. */
export function renderHtml(layout: ReportLayout, fontPath: string): string {
  const meta = layout.meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const notice = layout.notice ? `<p class="note" id="notice">${escapeHtml(layout.notice)}</p>` : '';
  const learner = layout.meta[0][1];
  const title = `<title>${escapeHtml(`${layout.title} · ${learner}`)}</title>`;
  const body = `<body>
<main>
<header id="header"><h1>${escapeHtml(layout.title)}</h1><dl class="meta">${meta}</dl>${notice}</header>
${layout.sections.map(section).join('\n')}
</main>
</body>`;
  // Every character of the page (markup included: a few ASCII glyphs more) is in the subset.
  const font = fontFace(CHART_FONT, fontPath, title + body);
  // Chart widths as classes, not style attributes: the dashboard shows the file under a policy that
  // allows its one <style> element and no style attribute.
  const widths = new Set(
    layout.sections.flatMap((s) =>
      s.blocks.flatMap((b) => (b.kind === 'chart' ? [Math.round(b.size * 100)] : [])),
    ),
  );
  const widthRules = [...widths].map((w) => `figure.w${w} { max-width: ${w}%; }`).join('\n');
  return `<!doctype html>
<html lang="${layout.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:">
${title}
<style>${font}${CSS}${widthRules}
</style>
</head>
${body}
</html>
`;
}
