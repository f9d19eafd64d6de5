// The alerts, dashboards and probes of the generated manifests against a live server: every metric
// name a PrometheusRule expression or a Grafana panel reads is one the server's /metrics exports (or
// a declared external series such as Prometheus's `up`), and every HTTP probe path answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { defaultImage } from '../../../src/cli/k8s.js';
import { dashboardQueries, dashboards } from '../../../src/deploy/grafana.js';
import { EXTERNAL_METRICS, generateManifests } from '../../../src/deploy/k8s.js';
import { exposedSeriesNames, metricNamesIn } from '../../../src/deploy/promql.js';
import { JOBS } from '../../../src/jobs/registry.js';
import { bearer, createFixture, type Fixture, token } from '../api/setup.js';

const objects = generateManifests({ image: defaultImage(), jobs: JOBS }).flatMap((f) => f.objects);
const rules = objects
  .filter((o): o is IPrometheusRule => o.kind === 'PrometheusRule')
  .flatMap((r) => r.spec.groups ?? [])
  .flatMap((g) => g.rules ?? []);

/**
 * The series names a scrape of this text can contain. The exposition declares every metric family
 * (# TYPE) even before a labelled series has been observed, so a family that no request has touched
 * yet still counts; a histogram's series are its _bucket, _sum and _count.
 */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    for (const n of exposedSeriesNames(m[1], m[2])) names.add(n);
  }
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )/gm)) names.add(m[1]);
  return names;
}

describe('the manifests against a live server', () => {
  let f: Fixture;
  let exposed: Set<string>;
  before(async () => {
    f = await createFixture();
    // One request that writes (a session), so the HTTP families have series as in production.
    // (It also matters on the embedded database: a PGlite instance that only ever read keeps
    // re-arming an internal timer after close, and the test process would never exit.)
    const created = await f.app.inject({
      method: 'POST',
      url: '/api/seedtest/sessions',
      headers: bearer(await token('metrics-learner', 'exam:write')),
      payload: { session_id: 'metrics-session' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const res = await f.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    exposed = exposedNames(res.body);
  });
  after(() => f.close());

  it('the exposition declares the families the alerts rely on before any observation', () => {
    // Sanity of the reading above: labelled families with no series yet are still declared.
    for (const n of ['seedtest_job_runs_total', 'seedtest_theta_update_latency_seconds_bucket']) {
      assert.ok(exposed.has(n), n);
    }
    assert.ok(exposed.has('http_requests_total') && exposed.has('http_request_duration_seconds_bucket'));
  });

  it('every metric an alert reads is exported by the program or declared external', () => {
    assert.ok(rules.length > 0);
    const usedExternal = new Set<string>();
    for (const rule of rules) {
      const names = metricNamesIn(String(rule.expr));
      assert.ok(names.size > 0, `${rule.alert}: no metric found in ${rule.expr}`);
      for (const name of names) {
        if (name in EXTERNAL_METRICS) {
          usedExternal.add(name);
          assert.ok(!exposed.has(name), `${name} is declared external but the program exports it`);
        } else {
          assert.ok(exposed.has(name), `${rule.alert} reads ${name}, which /metrics does not export`);
        }
      }
    }
    assert.deepEqual([...usedExternal].sort(), Object.keys(EXTERNAL_METRICS).sort(), 'no unused external');
  });

  it('every metric a dashboard panel reads is exported by the program', () => {
    let checked = 0;
    for (const d of dashboards().values()) {
      for (const p of d.panels) {
        for (const expr of dashboardQueries({ ...d, panels: [p] })) {
          for (const name of metricNamesIn(expr)) {
            assert.ok(
              exposed.has(name),
              `${d.uid} “${p.title}” reads ${name}, which /metrics does not export`,
            );
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 15);
  });

  it('a misspelled metric name would be caught', () => {
    const names = metricNamesIn('time() - max(seedtest_job_last_sucess_timestamp_seconds{job="x"}) > 1');
    assert.ok([...names].some((n) => !exposed.has(n) && !(n in EXTERNAL_METRICS)));
  });

  it('every HTTP probe path of every Deployment answers 200', async () => {
    const probes = objects
      .filter((o): o is IDeployment => o.kind === 'Deployment')
      .flatMap((d) => d.spec!.template.spec!.containers)
      .flatMap((c) => [c.startupProbe, c.livenessProbe, c.readinessProbe])
      .flatMap((p) => (p?.httpGet ? [p.httpGet.path!] : []));
    assert.ok(probes.includes('/health') && probes.includes('/ready'));
    for (const path of new Set(probes)) {
      const res = await f.app.inject({ url: path });
      assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
    }
    const serviceMonitor = objects.find((o) => o.kind === 'ServiceMonitor') as {
      spec: { endpoints: Array<{ path: string }> };
    };
    for (const e of serviceMonitor.spec.endpoints) {
      assert.equal((await f.app.inject({ url: e.path })).statusCode, 200, e.path);
    }
  });
});
