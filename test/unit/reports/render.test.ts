import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHTML } from 'linkedom';
import { PDFParse } from 'pdf-parse';
import {
  churnGauge,
  dailyChart,
  kpiChart,
  mergeStrokes,
  targetingChart,
  thetaChart,
  topicChart,
} from '../../../src/reports/charts.js';
import { messages } from '../../../src/reports/messages.js';
import { layoutReport, renderReport, SECTION_IDS } from '../../../src/reports/render.js';
import { KPI_KEYS, type ReportViewModel } from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek, noTheta } from './fixtures.js';
import { assertWellFormedXml } from './xml.js';

async function pdfText(vm: ReportViewModel) {
  const parser = new PDFParse({ data: new Uint8Array(await renderReport(vm, 'pdf')) });
  try {
    return await parser.getText();
  } finally {
    await parser.destroy();
  }
}

function html(vm: ReportViewModel) {
  return renderReport(vm, 'html').then((b) => b.toString('utf8'));
}

describe('HTML report', () => {
  for (const locale of ['ko', 'en'] as const) {
    it(`full week (${locale}): every section, the six KPI labels, well-formed charts, nothing external`, async () => {
      const m = messages(locale);
      const source = await html(fullWeek(locale));
      const { document } = parseHTML(source);
      assert.equal(document.documentElement.getAttribute('lang'), locale);
      assert.equal(document.querySelector('h1')?.textContent, m.title);
      for (const id of SECTION_IDS) {
        const section = document.querySelector(`section#${id}`);
        assert.ok(section, `section ${id}`);
        assert.equal(section.querySelector('h2')?.textContent, m.sections[id]);
      }
      const kpiText = document.querySelector('section#kpis')!.textContent!;
      for (const k of KPI_KEYS) assert.ok(kpiText.includes(m.kpiLabels[k]), `${k} label ${m.kpiLabels[k]}`);
      const svgs = source.match(/<svg[\s\S]*?<\/svg>(?=<figcaption|<\/figure>)/g) ?? [];
      assert.equal(svgs.length, 6, 'six charts: KPIs, θ, gauge, topics, daily, targeting');
      for (const svg of svgs) assertWellFormedXml(svg);
      assert.equal(document.querySelectorAll('script').length, 0);
      assert.ok(!/\b(?:src|href)\s*=/i.test(source), 'no external references');
      assert.ok(!/url\((?!#)/.test(source), 'no external url() in CSS or SVG');
    });
  }

  it('escapes user data', async () => {
    const vm = fullWeek('en');
    const evil = { ...vm, learner: { ...vm.learner, display_name: '<script>alert("x")</script>' } };
    const source = await html(evil);
    assert.ok(!source.includes('<script>'));
    assert.ok(source.includes('&#60;script&#62;'));
    // The topic name with <, & and quotes (fixtures) appears only escaped, in the table and the chart.
    assert.ok(!source.includes('<기초>'));
    const { document } = parseHTML(source);
    assert.ok(document.querySelector('section#topics')!.textContent!.includes('확률과 통계 <기초> & "심화"'));
  });

  it('empty week: the short report says so', async () => {
    const m = messages('ko');
    const { document } = parseHTML(await html(emptyWeek('ko')));
    assert.equal(document.querySelector('#notice')?.textContent, m.emptyWeek);
    const ids = [...document.querySelectorAll('section')].map((s) => s.id);
    assert.deepEqual(ids, ['kpis', 'goal', 'churn', 'recommendations']);
    assert.ok(
      document.querySelector('section#kpis')!.textContent!.includes(m.notEnoughData),
      'null KPI is not 0',
    );
  });

  it('no θ: the θ sections say why instead of numbers', async () => {
    const m = messages('en');
    const { document } = parseHTML(await html(noTheta('en')));
    const ability = document.querySelector('section#ability')!;
    assert.ok(ability.textContent!.includes(m.noTheta));
    assert.equal(ability.querySelector('svg'), null);
    assert.ok(document.querySelector('section#goal')!.textContent!.includes(m.goalNoTheta));
    assert.ok(document.querySelector('section#targeting')!.textContent!.includes(m.targetingNoTheta(15)));
    assert.ok(!/θ = /.test(document.querySelector('main')!.textContent!));
  });

  it('is deterministic for the same data', async () => {
    assert.equal(await html(fullWeek()), await html(fullWeek()));
  });
});

describe('charts', () => {
  it('are well-formed standalone SVG in every case, with axis titles in the report language', () => {
    for (const vm of [fullWeek('ko'), fullWeek('en'), emptyWeek('ko'), noTheta('en')]) {
      const m = messages(vm.learner.locale);
      const charts = [
        kpiChart(vm, m),
        thetaChart(vm, m),
        topicChart(vm, m),
        dailyChart(vm, m),
        targetingChart(vm, m),
        churnGauge(vm.kpis.S, m),
        churnGauge(null, m),
      ];
      for (const c of charts) if (c) assertWellFormedXml(c.svg);
    }
    const ko = messages('ko');
    assert.ok(thetaChart(fullWeek('ko'), ko)!.svg.includes(ko.charts.thetaAxis));
    assert.ok(targetingChart(fullWeek('ko'), ko)!.svg.includes(ko.charts.difficultyAxis));
    assert.ok(dailyChart(fullWeek('ko'), ko).svg.includes('월 11/16'));
    assert.equal(thetaChart(noTheta(), ko), null);
  });

  it('the gauge names its band and shows the value', () => {
    const m = messages('ko');
    assert.ok(churnGauge(0.81, m).svg.includes(`0.81 · ${m.churnBands.high}`));
    assert.ok(churnGauge(null, m).svg.includes(m.notEnoughData));
  });

  it('caps the topic chart at the 15 weakest topics and says so', () => {
    const vm = fullWeek('en');
    const topics = Array.from({ length: 20 }, (_, i) => ({
      ...vm.topics[0],
      topic_id: `t${i}`,
      name: `Topic ${i}`,
      correct: i,
      attempts: 20,
      accuracy: i / 20,
    }));
    const layout = layoutReport({ ...vm, topics });
    const section = layout.sections.find((s) => s.id === 'topics')!;
    const chart = section.blocks[0];
    assert.equal(chart.kind, 'chart');
    assert.equal(chart.kind === 'chart' && chart.caption, messages('en').charts.topicsShown(15, 20));
    assert.ok(
      chart.kind === 'chart' && chart.chart.svg.includes('Topic 0') && !chart.chart.svg.includes('Topic 19'),
    );
    assert.equal(section.blocks[1].kind === 'table' && section.blocks[1].rows.length, 20);
  });
});

describe('merged strokes', () => {
  it('turns a group of bare grid lines or tick marks into one path, and leaves styled ones alone', () => {
    const grid =
      '<g stroke="currentColor"><line y2="170" y1="170" x2="538" x1="50" /><line y2="145.00000000000003" y1="145.00000000000003" x2="538" x1="50" /></g>';
    assert.equal(
      mergeStrokes(grid),
      '<g stroke="currentColor"><path fill="none" d="M50,170L538,170M50,145L538,145" /></g>',
    );
    const ticks = '<g fill="none"><path d="M0,0L0,6" transform="translate(102.5,170)" /></g>';
    assert.equal(mergeStrokes(ticks), '<g fill="none"><path fill="none" d="M102.5,170L102.5,176" /></g>');
    const styled =
      '<g><line x1="0" y1="0" x2="1" y2="1" stroke="red" /><line x1="0" y1="1" x2="1" y2="1" /></g>';
    assert.equal(mergeStrokes(styled), styled);
  });
});

describe('PDF report', () => {
  it('full week (ko): A4, 3 pages, Korean labels extractable, Noto Sans KR embedded', async () => {
    const bytes = await renderReport(fullWeek('ko'), 'pdf');
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    assert.match(bytes.toString('latin1'), /\/MediaBox \[0 0 595\.2\d* 841\.8\d*\]/);
    assert.match(bytes.toString('latin1'), /NotoSansKR-Regular/);
    const text = await pdfText(fullWeek('ko'));
    assert.equal(text.total, 3);
    const m = messages('ko');
    for (const k of KPI_KEYS) assert.ok(text.text.includes(m.kpiLabels[k]), `KPI label ${m.kpiLabels[k]}`);
    for (const id of SECTION_IDS) assert.ok(text.text.includes(m.sections[id]), `section ${m.sections[id]}`);
    assert.ok(text.text.includes('김서연'));
    assert.ok(text.text.includes('↑ 상승') && text.text.includes('↓ 하락'), 'arrows render');
  });

  it('full week (en), empty week and no θ have the expected pages and text', async () => {
    const en = await pdfText(fullWeek('en'));
    assert.equal(en.total, 3);
    assert.ok(en.text.includes('Goal-attainment probability'));
    const empty = await pdfText(emptyWeek('ko'));
    assert.equal(empty.total, 1);
    assert.ok(empty.text.includes(messages('ko').emptyWeek.slice(0, 20)));
    const none = await pdfText(noTheta('ko'));
    assert.ok(none.text.includes(messages('ko').goalNoTheta.slice(0, 20)));
  });

  it('is deterministic for the same data', async () => {
    const a = await renderReport(fullWeek(), 'pdf');
    const b = await renderReport(fullWeek(), 'pdf');
    assert.ok(a.equals(b));
  });
});
