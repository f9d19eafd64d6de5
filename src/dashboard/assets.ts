// The dashboard's files, read once when the server starts: the page shell and stylesheet
// (static/), the page script (client/app.ts, compiled by `npm run build` into dist/; when the
// server runs from the sources, as in tests and `npm run seedtest`, compiled here in memory by
// TypeScript's transpiler, a dev dependency that the built package never loads) and the messages.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardMessages } from './messages.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface Asset {
  type: string;
  body: string;
}

async function clientScript(): Promise<string> {
  const built = join(HERE, 'client', 'app.js');
  if (existsSync(built)) return readFile(built, 'utf8');
  const ts = (await import('typescript')).default;
  const source = await readFile(join(HERE, 'client', 'app.ts'), 'utf8');
  return ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
  }).outputText;
}

/** The files under /dashboard/, by name. */
export async function loadDashboardAssets(): Promise<Map<string, Asset>> {
  const [html, css, icon, js] = await Promise.all([
    readFile(join(HERE, 'static', 'index.html'), 'utf8'),
    readFile(join(HERE, 'static', 'dashboard.css'), 'utf8'),
    readFile(join(HERE, 'static', 'favicon.svg'), 'utf8'),
    clientScript(),
  ]);
  return new Map([
    ['', { type: 'text/html; charset=utf-8', body: html }],
    ['dashboard.css', { type: 'text/css; charset=utf-8', body: css }],
    ['favicon.svg', { type: 'image/svg+xml', body: icon }],
    ['app.js', { type: 'text/javascript; charset=utf-8', body: js }],
    ['i18n.json', { type: 'application/json; charset=utf-8', body: JSON.stringify(dashboardMessages()) }],
  ]);
}

/**
 * Scripts and styles from this origin only, no inline ones; charts are SVG images from blob: URLs;
 * data only from this origin's API; nothing may frame the page.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
