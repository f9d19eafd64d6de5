// The API reference at /docs: Swagger UI served by the server itself (every asset the page needs
// answers from it, no URL of another host is loaded, a CSP without inline scripts), and an OpenAPI
// document that states each route's scopes and errors and has examples that work on the demo data.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCS_INIT_PATH, documentedErrorCodes, documentedRoutes } from '../../../src/api/docs.js';
import { loadPlatform } from '../../../src/demo/load.js';
import { streamPlatform } from '../../../src/synthetic/platform.js';
import { bearer, createFixture, type Fixture, token } from './setup.js';

/**
 * Hosts that Swagger UI's bundle names but never loads with this page's configuration: identifiers
 * (XML namespaces, JSON Schema and OpenAPI dialect ids), links in messages and rendered anchors,
 * sample values of formats, a base for resolving relative URLs, and the validator badge that the
 * init script turns off (validatorUrl: null). A new host in a new release fails here until reviewed;
 * the CSP (connect-src/img-src/script-src 'self') is what enforces it in the browser.
 */
const INERT_HOSTS: Readonly<Record<string, string>> = {
  'www.w3.org': 'XML and SVG namespace identifiers',
  'json-schema.org': 'JSON Schema dialect identifiers',
  'spec.openapis.org': 'OpenAPI dialect identifiers',
  'datatracker.ietf.org': 'links to RFCs in format descriptions',
  'www.rfc-editor.org': 'links to RFCs in format descriptions',
  'github.com': 'links in deprecation messages',
  'reactjs.org': 'link in React error messages',
  'redux.js.org': 'link in Redux error messages',
  'fb.me': 'link in React warnings',
  'swagger.io': 'a default external-docs link, shown only when a document names none',
  'validator.swagger.io': 'the validator badge, disabled by validatorUrl: null',
  'example.com': 'sample values of the uri formats',
  'spdx.org': 'the license link of a document that names an SPDX identifier (ours names none)',
  'vladimirgorej.com': 'a base for checking that a server URL parses',
  base: 'a random base for resolving relative URLs',
  'instagram.com': 'profile-link templates of a mention parser, unused',
  'www.instagram.com': 'profile-link templates of a mention parser, unused',
  'twitter.com': 'profile-link templates of a mention parser, unused',
  'www.facebook.com': 'profile-link templates of a mention parser, unused',
  'soundcloud.com': 'profile-link templates of a mention parser, unused',
  'www.tiktok.com': 'profile-link templates of a mention parser, unused',
};

const hostsIn = (text: string) =>
  new Set([...text.matchAll(/https?:\/\/([a-zA-Z0-9.-]+)/g)].map((m) => m[1]!.toLowerCase()));

describe('GET /docs: Swagger UI from this server alone', () => {
  let f: Fixture;
  let base: string;
  before(async () => {
    f = await createFixture();
    base = await f.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => f.close());

  it('the page, and every script and stylesheet it references, come from the server with no other host', async () => {
    const page = await fetch(`${base}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="swagger-ui">/);
    assert.deepEqual([...hostsIn(html)], [], 'no absolute URL in the page');
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 3, refs.join(' '));
    assert.ok(refs.includes(DOCS_INIT_PATH));
    let bundle = '';
    for (const ref of refs) {
      assert.match(ref, /^\/[^/]/, `${ref}: a path on this server`);
      const res = await fetch(new URL(ref, base));
      assert.equal(res.status, 200, ref);
      const text = await res.text();
      if (ref === DOCS_INIT_PATH) {
        assert.deepEqual([...hostsIn(text)], [], 'the init script names no host');
        assert.match(text, /validatorUrl: null/);
        assert.match(text, /url: "\/docs\/openapi\.json"/);
      } else if (ref.endsWith('.css')) {
        for (const m of text.matchAll(/url\(\s*['"]?([^'")]+)/g)) {
          assert.match(m[1]!, /^data:/, `the stylesheet loads ${m[1]}`);
        }
        assert.ok(!/@import/.test(text));
      } else {
        bundle += text;
      }
    }
    assert.match(bundle, /SwaggerUIBundle/);
    for (const host of hostsIn(bundle)) {
      assert.ok(host in INERT_HOSTS, `the bundle names ${host}: review it and list it, or stop serving it`);
    }
  });

  it('sends a Content-Security-Policy that allows scripts from this server only, never inline', async () => {
    const res = await fetch(`${base}/docs`);
    await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.deepEqual(directives.get('img-src'), ["'self'", 'data:']);
    assert.ok(!csp.includes('unsafe-eval'));
  });

  it('serves only the known assets: anything else is a 404 in the error shape', async () => {
    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/index.html',
    ]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    }
  });
});

interface Operation {
  description?: string;
  parameters?: Array<{
    name: string;
    in: string;
    example?: unknown;
    required?: boolean;
    schema?: { default?: unknown };
  }>;
  requestBody?: { content: Record<string, { example?: unknown; schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: ErrorSchema }> }>;
  security?: unknown[];
}
interface ErrorSchema {
  properties?: { error?: { properties?: { code?: { enum?: string[] } } } };
}

describe('the OpenAPI document', () => {
  let f: Fixture;
  let ops: Map<string, Operation>;
  before(async () => {
    f = await createFixture();
    const doc = (await f.app.inject({ url: '/docs/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    ops = new Map(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as const),
      ),
    );
  });
  after(() => f.close());

  const errorCodes = (op: Operation, status: string) =>
    op.responses[status]?.content?.['application/json']?.schema.properties?.error?.properties?.code?.enum ??
    [];

  it('documents the new read routes with their scopes, errors and a demo example', () => {
    const get = ops.get('GET /api/seedtest/sessions/{session_id}')!;
    assert.ok(get, [...ops.keys()].join('\n'));
    assert.match(get.description!, /Scopes: `exam:read`/);
    assert.deepEqual(errorCodes(get, '404'), ['SESSION_NOT_FOUND']);
    assert.deepEqual(errorCodes(get, '403').sort(), ['INSUFFICIENT_SCOPE', 'NOT_YOUR_DATA']);
    assert.deepEqual(errorCodes(get, '401').sort(), ['INVALID_TOKEN', 'UNAUTHENTICATED']);
    assert.equal(get.parameters!.find((p) => p.name === 'session_id')!.example, 'u-00001-s001');
    const items = ops.get('GET /api/seedtest/items')!;
    assert.match(items.description!, /Scopes: `reports:view` or `analysis:run`/);
    assert.ok(items.parameters!.some((p) => p.name === 'after' && p.in === 'query'));
  });

  it('every operation lists its errors in the error shape, and every bearer route its scopes', () => {
    assert.ok(ops.size >= 18);
    for (const [key, op] of ops) {
      assert.deepEqual(errorCodes(op, '503'), ['UNAVAILABLE'], key);
      if (op.parameters?.length || op.requestBody)
        assert.ok(errorCodes(op, '400').includes('INVALID_INPUT'), key);
      if (key.includes('/api/seedtest/')) {
        assert.match(op.description ?? '', /Scopes: /, key);
        assert.ok(errorCodes(op, '403').includes('INSUFFICIENT_SCOPE'), key);
      }
    }
  });

  it('a query parameter with a default is optional, and every success response says what it is', () => {
    const items = ops.get('GET /api/seedtest/items')!;
    const limit = items.parameters!.find((p) => p.name === 'limit' && p.in === 'query')!;
    assert.ok(limit, 'GET /items documents limit');
    assert.notEqual(limit.required, true);
    for (const [key, op] of ops) {
      for (const p of op.parameters ?? []) {
        if (p.in === 'query' && p.schema?.default !== undefined)
          assert.notEqual(p.required, true, `${key} ${p.name}`);
      }
      for (const [status, r] of Object.entries(op.responses)) {
        if (status.startsWith('2')) assert.notEqual(r.description, 'Default Response', `${key} ${status}`);
      }
    }
  });

  it('every error code a route raises is documented; every documentation entry names a route', () => {
    const documented = new Set(
      [...ops.values()].flatMap((op) => Object.keys(op.responses).flatMap((s) => errorCodes(op, s))),
    );
    const raised = new Set<string>();
    for (const file of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file === join('api', 'docs.ts')) continue;
      const text = readFileSync(join('src', file), 'utf8');
      for (const m of text.matchAll(/new ApiError\(\s*'([A-Z_]+)'/g)) raised.add(m[1]!);
    }
    for (const code of ['NO_CALIBRATION', 'NO_RESPONSES', 'NOT_YOUR_DATA', 'INSUFFICIENT_SCOPE'])
      raised.add(code);
    assert.ok(raised.size > 10);
    for (const code of raised) assert.ok(documented.has(code), `${code} is raised but not documented`);
    for (const code of documentedErrorCodes())
      assert.ok(documented.has(code), `${code} documented on no route`);
    const registered = new Set([...ops.keys()].map((k) => k.replace(/\{(\w+)\}/g, ':$1')));
    for (const route of documentedRoutes()) assert.ok(registered.has(route), `${route}: no such route`);
  });

  it('no example names data the demo lacks', () => {
    const text = JSON.stringify([...ops.values()]) + readFileSync('docs/api.md', 'utf8');
    assert.ok(!text.includes('ALG-001'));
  });

  it('the examples work on the demo’s data', async () => {
    await loadPlatform(
      f.database.db,
      streamPlatform({
        seed: 42,
        learners: 20,
        weeks: 2,
        items: 200,
        start: new Date('2026-11-02T00:00:00Z'),
      }),
    );
    const learner = bearer(await token('u-00001', 'exam:write exam:read reports:view'));
    const admin = bearer(await token('demo-admin', 'admin'));
    const call = async (key: string, headers: Record<string, string>) => {
      const op = ops.get(key)!;
      const [method, path] = key.split(' ') as [string, string];
      const params = op.parameters ?? [];
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const example = params.find((p) => p.name === name && p.in === 'path')?.example;
        assert.ok(example !== undefined, `${key}: no example of ${name}`);
        return encodeURIComponent(String(example));
      });
      const query = new URLSearchParams(
        params
          .filter((p) => p.in === 'query' && p.example !== undefined)
          .map((p): [string, string] => [p.name, String(p.example)]),
      );
      const body = op.requestBody?.content['application/json']?.example;
      const res = await f.app.inject({
        method: method as 'GET' | 'POST',
        url: `${url}${query.size ? `?${query}` : ''}`,
        headers,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      assert.ok(res.statusCode < 300, `${key}: ${res.statusCode} ${res.body}`);
      return res.json();
    };
    // A learner's round: the example session, its attempts (demo items), its completion.
    await call('POST /api/seedtest/sessions', learner);
    assert.deepEqual(await call('POST /api/seedtest/sessions/{session_id}/attempts', learner), {
      inserted: 2,
      duplicates: 0,
    });
    await call('POST /api/seedtest/sessions/{session_id}/complete', learner);
    // Reads of the demo's own sessions and bank.
    const session = await call('GET /api/seedtest/sessions/{session_id}', learner);
    assert.ok(session.attempts.count > 0);
    const page = await call('GET /api/seedtest/items', admin);
    assert.ok(
      page.items.length > 0 && page.items.every((i: { topic_id: string }) => i.topic_id === 'math-calculus'),
    );
    await call('GET /api/seedtest/items/{item_id}/params', admin);
    await call('GET /api/seedtest/analysis/features/topics', learner);
    await call('POST /api/seedtest/jobs/{name}/run', admin);
  });
});
