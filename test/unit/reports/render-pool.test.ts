import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { renderReports } from '../../../src/reports/render.js';
import { createRenderPool } from '../../../src/reports/render-pool.js';
import type { ReportViewModel } from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek } from './fixtures.js';

describe('render pool of child processes', () => {
  const pool = createRenderPool(2);
  after(() => pool.close());

  it('renders the same bytes as this process, several reports at once', async () => {
    const vms = [fullWeek('ko'), emptyWeek('en'), fullWeek('en')];
    const [pooled, local] = await Promise.all([
      Promise.all(vms.map((vm) => pool.render(vm, ['html', 'pdf']))),
      Promise.all(vms.map((vm) => renderReports(vm, ['html', 'pdf']))),
    ]);
    for (const [i, out] of pooled.entries()) {
      assert.deepEqual([...out.keys()], ['html', 'pdf']);
      for (const format of ['html', 'pdf'] as const)
        assert.ok(out.get(format)!.equals(local[i].get(format)!));
    }
  });

  it("rejects one report's failure with its message and keeps serving the others", async () => {
    const broken = { ...fullWeek(), kpis: null } as unknown as ReportViewModel;
    await assert.rejects(pool.render(broken, ['html']), /null/);
    const out = await pool.render(fullWeek(), ['html']);
    assert.ok(out.get('html')!.toString('utf8').startsWith('<!doctype html>'));
  });
});
