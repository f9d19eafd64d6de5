// The item-bank charts of the dashboard (src/reports/charts.ts): well-formed SVG, each item drawn in
// the group of its worst flag, points beyond the axes counted, topics past the ninth merged, a
// 5,000-item scatter kept small, and the curves' labels in both languages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  itemCurveChart,
  itemHistoryChart,
  itemScatterByFlag,
  itemScatterByTopic,
  testInformationChart,
} from '../../../src/reports/charts.js';
import type { ItemFlag } from '../../../src/reports/item-flags.js';
import { messages } from '../../../src/reports/messages.js';
import { assertWellFormedXml } from './xml.js';

const en = messages('en');
const ko = messages('ko');

/** The path of the points of one group: the one after its marks' paint. */
const pointsOf = (svg: string, stroke: string) =>
  (svg.match(new RegExp(`<path d="([^"]*)"[^>]*(?:stroke|fill)="${stroke}"`, 'g')) ?? []).length;

describe('item-bank charts', () => {
  it('draws each item once, in the group of its worst flag, and counts the groups in the legend', () => {
    const items: { a: number; b: number; flags: ItemFlag[] }[] = [
      { a: 1, b: 0, flags: [] },
      { a: 1.2, b: 0.5, flags: [] },
      { a: 0.8, b: -1, flags: ['inactive', 'drift'] },
      { a: 1.5, b: 1, flags: ['misfit', 'overexposed'] },
      { a: 2, b: -2, flags: ['inactive'] },
    ];
    const { svg } = itemScatterByFlag(items, en);
    assertWellFormedXml(svg);
    for (const label of ['no flag (2)', 'drift (1)', 'misfit (1)', 'over-exposed (0)', 'inactive (1)'])
      assert.ok(svg.includes(label), label);
    assert.ok(!svg.includes('beyond the axes'), 'nothing clipped');
    // Every shown group is one path, whatever its size.
    assert.equal(pointsOf(svg, '#b3261e'), 2, 'the drift group and its legend mark');
  });

  it('draws points beyond the axes at the edge and says how many', () => {
    const { svg } = itemScatterByFlag(
      [
        { a: 1, b: 7, flags: [] },
        { a: 9, b: 0, flags: [] },
        { a: 1, b: -4.5, flags: [] },
        { a: 1, b: 0, flags: [] },
      ],
      en,
    );
    assert.ok(svg.includes('3 items beyond the axes drawn at the edge'));
    assert.ok(itemScatterByFlag([{ a: 9, b: 0, flags: [] }], ko).svg.includes('축 밖의 문항 1개'));
  });

  it('names the nine largest topics and merges the rest', () => {
    const items = Array.from({ length: 12 }, (_, t) =>
      Array.from({ length: 12 - t }, (_, k) => ({ a: 1, b: k / 10, topic_id: `t${t}` })),
    ).flat();
    const { svg } = itemScatterByTopic(items, (id) => `Topic ${id}`, en);
    assertWellFormedXml(svg);
    assert.ok(svg.includes('Topic t0 (12)') && svg.includes('Topic t8 (4)'));
    assert.ok(!svg.includes('Topic t9'));
    assert.ok(svg.includes('other topics (6)'), 't9, t10, t11: 3 + 2 + 1');
  });

  it('keeps a 5,000-item scatter under 150 KB', () => {
    const flags: ItemFlag[][] = [[], [], [], ['drift'], ['misfit'], ['overexposed'], ['inactive']];
    const items = Array.from({ length: 5000 }, (_, k) => ({
      a: 0.3 + ((k * 37) % 250) / 100,
      b: -3 + ((k * 53) % 600) / 100,
      flags: flags[k % flags.length]!,
    }));
    const { svg } = itemScatterByFlag(items, en);
    assertWellFormedXml(svg);
    assert.ok(svg.length < 150_000, `${svg.length} characters`);
    assert.equal((svg.match(/<path /g) ?? []).length < 60, true, 'a path per group, not per item');
  });

  it('labels the information, characteristic and history charts in both languages', () => {
    const curve = Array.from({ length: 81 }, (_, k) => {
      const theta = -4 + k / 10;
      const p = 0.2 + 0.8 / (1 + Math.exp(-1.3 * (theta - 0.4)));
      return { theta, p, info: 0.4 * Math.exp(-((theta - 0.4) ** 2)) };
    });
    for (const [m, words] of [
      [en, ['Test information', 'Ability θ']],
      [ko, ['검사 정보량', '능력 θ']],
    ] as const) {
      const info = testInformationChart(curve, m).svg;
      assertWellFormedXml(info);
      for (const w of words) assert.ok(info.includes(w), w);
    }
    const icc = itemCurveChart(curve, { b: 0.4, c: 0.2 }, en).svg;
    assertWellFormedXml(icc);
    for (const w of ['P(correct)', 'b = 0.40', 'guessing c = 0.20', 'Item information'])
      assert.ok(icc.includes(w), w);
    assert.ok(!itemCurveChart(curve, { b: 0.4, c: 0 }, en).svg.includes('guessing'));
    const history = itemHistoryChart(
      [
        { at: new Date('2026-11-08T23:00:00Z'), a: 1, b: 0.2, se_a: 0.1, se_b: 0.2 },
        { at: new Date('2026-11-15T23:00:00Z'), a: 1.1, b: 0.4, se_a: null, se_b: null },
      ],
      ko,
    ).svg;
    assertWellFormedXml(history);
    for (const w of ['난이도 b', '변별도 a', '±1 표준오차']) assert.ok(history.includes(w), w);
    assert.match(history, />11\/\d+</, 'dates in the Korean form');
    // One run alone still gets a time axis.
    assertWellFormedXml(
      itemHistoryChart([{ at: new Date('2026-11-08T23:00:00Z'), a: 1, b: 0, se_a: null, se_b: null }], en)
        .svg,
    );
  });
});
