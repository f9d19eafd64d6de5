import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { renderReports } from '../../../src/reports/render.js';
import { createRenderPool } from '../../../src/reports/render-pool.js';
import type { ReportViewModel } from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek } from './fixtures.js';

describe('render pool of child processes', () => {
  const pool = createRenderPool(2);
  after(() => pool.close());

  it('renders the same bytes as this process, several reports at once, every edition and format', async () => {
    const vms = [fullWeek('ko'), emptyWeek('en'), fullWeek('en')];
    const editions = ['learner', 'teacher'] as const;
    const [pooled, local] = await Promise.all([
      Promise.all(vms.map((vm) => pool.render(vm, editions, ['html', 'pdf']))),
      Promise.all(vms.map((vm) => renderReports(vm, editions, ['html', 'pdf']))),
    ]);
    for (const [i, out] of pooled.entries()) {
      assert.deepEqual(
        out.map((r) => `${r.edition}.${r.format}`),
        ['learner.html', 'learner.pdf', 'teacher.html', 'teacher.pdf'],
      );
      for (const [k, r] of out.entries()) assert.ok(r.bytes.equals(local[i][k].bytes));
    }
  });

  it("rejects one report's failure with its message and keeps serving the others", async () => {
    const broken = { ...fullWeek(), kpis: null } as unknown as ReportViewModel;
    await assert.rejects(pool.render(broken, ['learner'], ['html']), /null/);
    const [out] = await pool.render(fullWeek(), ['learner'], ['html']);
    assert.ok(out.bytes.toString('utf8').startsWith('<!doctype html>'));
  });
});
