// The dashboard's files, read once when the server starts: the page shell and stylesheet
// (static/), the page's modules (client/*.ts, compiled by `npm run build` into dist/; when the
// server runs from the sources, as in tests and `npm run seedtest`, compiled here in memory by
// TypeScript's transpiler, a dev dependency that the built package never loads) and the messages.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardMessages } from './messages.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface Asset {
  type: string;
  body: string;
  /** The page: served with a fresh nonce in place of NONCE_PLACEHOLDER and in its policy. */
  nonced?: boolean;
}

/** The page's modules (app.js and the page modules it imports), by file name. */
async function clientModules(): Promise<Map<string, string>> {
  const dir = join(HERE, 'client');
  const built = existsSync(join(dir, 'app.js'));
  const names = (await readdir(dir)).filter((f) => f.endsWith(built ? '.js' : '.ts'));
  const ts = built ? undefined : (await import('typescript')).default;
  const modules = new Map<string, string>();
  for (const name of names) {
    const source = await readFile(join(dir, name), 'utf8');
    modules.set(
      name.replace(/\.ts$/, '.js'),
      ts
        ? ts.transpileModule(source, {
            compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
          }).outputText
        : source,
    );
  }
  return modules;
}

/** The files under /dashboard/, by name. */
export async function loadDashboardAssets(): Promise<Map<string, Asset>> {
  const [html, css, icon, scripts] = await Promise.all([
    readFile(join(HERE, 'static', 'index.html'), 'utf8'),
    readFile(join(HERE, 'static', 'dashboard.css'), 'utf8'),
    readFile(join(HERE, 'static', 'favicon.svg'), 'utf8'),
    clientModules(),
  ]);
  return new Map([
    ['', { type: 'text/html; charset=utf-8', body: html, nonced: html.includes(NONCE_PLACEHOLDER) }],
    ['dashboard.css', { type: 'text/css; charset=utf-8', body: css }],
    ['favicon.svg', { type: 'image/svg+xml', body: icon }],
    ...[...scripts].map(([name, body]): [string, Asset] => [
      name,
      { type: 'text/javascript; charset=utf-8', body },
    ]),
    ['i18n.json', { type: 'application/json; charset=utf-8', body: JSON.stringify(dashboardMessages()) }],
  ]);
}

/** Where index.html carries the page's nonce (on its script tag, where the page script reads it). */
export const NONCE_PLACEHOLDER = '__CSP_NONCE__';

/**
 * Scripts and styles from this origin only, no inline ones; charts are SVG images from blob: URLs;
 * data only from this origin's API; nothing may frame the page. The page itself gets a fresh nonce
 * per response: a stored report shown in the page (a sandboxed srcdoc frame, which inherits this
 * policy) may use its one <style> element, which the page script marks with the nonce, and its
 * embedded font (a data: URL). No style attribute and nothing inline from elsewhere is allowed.
 */
export function dashboardCsp(nonce?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    nonce ? `style-src 'self' 'nonce-${nonce}'` : "style-src 'self'",
    ...(nonce ? ['font-src data:'] : []),
    "img-src 'self' blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
