import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parseHTML } from 'linkedom';
import { PDFParse } from 'pdf-parse';
import { KPI_KEYS } from '../../../src/kpis/kpis.js';
import {
  churnGauge,
  dailyChart,
  kpiChart,
  mergeStrokes,
  targetingChart,
  thetaChart,
  topicChart,
} from '../../../src/reports/charts.js';
import { SECTION_IDS } from '../../../src/reports/layout.js';
import { messages } from '../../../src/reports/messages.js';
import { layoutReport, renderReport } from '../../../src/reports/render.js';
import type { Edition, ReportViewModel } from '../../../src/reports/view-model.js';
import { emptyWeek, fullWeek, noTheta } from './fixtures.js';
import { assertWellFormedXml } from './xml.js';

async function pdfText(vm: ReportViewModel, edition: Edition = 'learner') {
  const parser = new PDFParse({ data: new Uint8Array(await renderReport(vm, 'pdf', edition)) });
  try {
    return await parser.getText();
  } finally {
    await parser.destroy();
  }
}

function html(vm: ReportViewModel, edition: Edition = 'learner') {
  return renderReport(vm, 'html', edition).then((b) => b.toString('utf8'));
}

/** The sections of an edition: the learner's has no targeting detail. */
const sectionsOf = (edition: Edition) =>
  SECTION_IDS.filter((id) => edition === 'teacher' || id !== 'targeting');

describe('HTML report', () => {
  for (const [locale, edition] of [
    ['ko', 'learner'],
    ['en', 'teacher'],
  ] as const) {
    it(`full week (${locale}, ${edition}): every section, the six KPI labels, well-formed charts, nothing external`, async () => {
      const m = messages(locale);
      const source = await html(fullWeek(locale), edition);
      const { document } = parseHTML(source);
      assert.equal(document.documentElement.getAttribute('lang'), locale);
      assert.equal(document.querySelector('h1')?.textContent, m.title[edition]);
      assert.deepEqual(
        [...document.querySelectorAll('section')].map((x) => x.id),
        sectionsOf(edition),
      );
      for (const id of sectionsOf(edition)) {
        const section = document.querySelector(`section#${id}`);
        assert.ok(section, `section ${id}`);
        assert.equal(section.querySelector('h2')?.textContent, m.sections[id]);
      }
      const kpiText = document.querySelector('section#kpis')!.textContent!;
      for (const k of KPI_KEYS) assert.ok(kpiText.includes(m.kpiLabels[k]), `${k} label ${m.kpiLabels[k]}`);
      const svgs = source.match(/<svg[\s\S]*?<\/svg>(?=<figcaption|<\/figure>)/g) ?? [];
      assert.equal(svgs.length, edition === 'teacher' ? 6 : 5, 'KPIs, θ, gauge, topics, daily (+ targeting)');
      for (const svg of svgs) assertWellFormedXml(svg);
      assert.equal(document.querySelectorAll('script').length, 0);
      assert.ok(!/\b(?:src|href)\s*=/i.test(source), 'no external references');
      assert.ok(!/url\((?!#|data:font\/woff2;base64,)/.test(source), 'no external url() in CSS or SVG');
      assert.ok(source.length <= 400_000, `${source.length} bytes`);
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
    const { document } = parseHTML(await html(noTheta('en'), 'teacher'));
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
        kpiChart(vm, m, (_k, v) => String(v)),
        thetaChart(vm, m, null),
        thetaChart(vm, m, vm.settings.score),
        topicChart(vm, m),
        dailyChart(vm, m),
        targetingChart(vm, m),
        churnGauge(vm.kpis.S, m),
        churnGauge(null, m),
      ];
      for (const c of charts) if (c) assertWellFormedXml(c.svg);
    }
    const ko = messages('ko');
    assert.ok(thetaChart(fullWeek('ko'), ko, null)!.svg.includes(ko.charts.thetaAxis));
    const scored = thetaChart(fullWeek('ko'), ko, fullWeek().settings.score)!.svg;
    assert.ok(scored.includes(ko.charts.scoreAxis) && scored.includes(ko.charts.goalScoreLine('110')));
    assert.ok(targetingChart(fullWeek('ko'), ko)!.svg.includes(ko.charts.difficultyAxis));
    assert.ok(dailyChart(fullWeek('ko'), ko).svg.includes('월 11/16'));
    assert.equal(thetaChart(noTheta(), ko, null), null);
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
    const layout = layoutReport({ ...vm, topics }, 'teacher');
    const section = layout.sections.find((s) => s.id === 'topics')!;
    const chart = section.blocks[0];
    assert.equal(chart.kind, 'chart');
    assert.equal(chart.kind === 'chart' && chart.caption, messages('en').charts.topicsShown(15, 20));
    assert.ok(
      chart.kind === 'chart' && chart.chart.svg.includes('Topic 0') && !chart.chart.svg.includes('Topic 19'),
    );
    assert.equal(section.blocks[1].kind === 'table' && section.blocks[1].rows.length, 20);
  });

  it("the targeting histogram's axis reaches above its fullest bin", () => {
    const vm = fullWeek('en');
    const svg = targetingChart(
      { ...vm, targeting: [0.1, 0.2, 0.3, 0.4].map((b, i) => ({ item_id: `${i}`, b })) },
      messages('en'),
    )!.svg;
    const ticks = [...svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((t) => Number(t[1]));
    assert.ok(Math.max(...ticks) > 4, ticks.join());
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
    for (const id of sectionsOf('learner'))
      assert.ok(text.text.includes(m.sections[id]), `section ${m.sections[id]}`);
    assert.ok(text.text.includes('김서연'));
    assert.ok(text.text.includes('↑ 상승') && text.text.includes('↓ 하락'), 'arrows render');
  });

  it('full week (en), empty week and no θ have the expected pages and text', async () => {
    const en = await pdfText(fullWeek('en'));
    assert.equal(en.total, 3);
    assert.ok(en.text.includes('Goal-attainment probability'));
    const empty = await pdfText(emptyWeek('ko'));
    assert.equal(empty.total, 1);
    // The short report with the recommendations' evidence still fits one page in English.
    assert.equal((await pdfText(emptyWeek('en'))).total, 1);
    assert.ok(empty.text.includes(messages('ko').emptyWeek.slice(0, 20)));
    const none = await pdfText(noTheta('ko'));
    assert.ok(none.text.includes(messages('ko').goalNoTheta.slice(0, 20)));
  });

  it('is deterministic for the same data: identical sha256, a fixed document id distinct per document', async () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const id = (b: Buffer) => /\/ID \[<([0-9a-f]+)>/.exec(b.toString('latin1'))?.[1];
    for (const edition of ['learner', 'teacher'] as const) {
      const a = await renderReport(fullWeek(), 'pdf', edition);
      const b = await renderReport(fullWeek(), 'pdf', edition);
      assert.equal(sha(a), sha(b), edition);
    }
    const learner = await renderReport(fullWeek(), 'pdf', 'learner');
    const teacher = await renderReport(fullWeek(), 'pdf', 'teacher');
    const other = await renderReport(
      { ...fullWeek(), learner: { ...fullWeek().learner, user_id: 'u-2' } },
      'pdf',
    );
    assert.ok(id(learner));
    assert.equal(new Set([id(learner), id(teacher), id(other)]).size, 3);
  });
});

/** The text a reader sees: the HTML without its markup and style, or the PDF's text. */
async function readable(vm: ReportViewModel, edition: Edition) {
  const { document } = parseHTML(await html(vm, edition));
  const svgText = [...document.querySelectorAll('svg text')].map((t) => t.textContent).join(' ');
  return {
    html: `${document.querySelector('main')!.textContent} ${svgText}`,
    pdf: (await pdfText(vm, edition)).text,
  };
}

describe('editions', () => {
  for (const locale of ['ko', 'en'] as const) {
    it(`the learner's edition (${locale}) has no θ, τ, SE or standard error and no run id; the teacher's has them`, async () => {
      for (const vm of [fullWeek(locale), noTheta(locale), emptyWeek(locale)]) {
        const learner = await readable(vm, 'learner');
        for (const [format, text] of Object.entries(learner)) {
          for (const jargon of ['θ', 'τ', 'SE', '표준오차', 'standard error', 'calib-2026-11-15', 'u-1001'])
            assert.ok(!text.includes(jargon), `${format} of ${locale} has "${jargon}"`);
        }
      }
      const teacher = await readable(fullWeek(locale), 'teacher');
      for (const text of Object.values(teacher)) {
        for (const term of ['θ', 'τ', 'calib-2026-11-15']) assert.ok(text.includes(term), term);
      }
    });
  }

  it("the learner's edition shows θ as a score (mean 100, SD 20) with what a change means; the teacher's both", async () => {
    const ko = messages('ko');
    const { document } = parseHTML(await html(fullWeek('ko')));
    const ability = document.querySelector('section#ability')!.textContent!;
    // θ 0.42 → 108, the first estimate −0.35 → 93: up 15.
    assert.ok(ability.includes('현재 점수는 108점입니다 (오차 ±4점)'), ability);
    assert.ok(ability.includes('15점 올랐습니다'), ability);
    assert.ok(ability.includes(ko.scaleMeaning('100', '20', '80', '120')));
    const teacher = parseHTML(await html(fullWeek('en'), 'teacher')).document.querySelector(
      'section#ability',
    )!;
    assert.match(teacher.textContent!, /θ = 0\.42 \(standard error 0\.21\), a score of 108/);
    const coarse = {
      ...fullWeek('en'),
      settings: { ...fullWeek().settings, score: { mean: 50, sd: 10, decimals: 1 } },
    };
    assert.match(
      parseHTML(await html(coarse)).document.querySelector('section#ability p')!.textContent!,
      /score is 54\.2/,
    );
  });
});

describe('local time', () => {
  it("every time shown is the learner's wall clock, naming the zone", async () => {
    const seoul = parseHTML(await html(fullWeek('ko'))).document.querySelector('dl.meta')!.textContent!;
    assert.ok(seoul.includes('2026-11-23 13:00 (Asia/Seoul)'), seoul);
    assert.ok(!seoul.includes('UTC'));
    const vm = fullWeek('en');
    const ny = { ...vm, learner: { ...vm.learner, time_zone: 'America/New_York' } };
    const meta = parseHTML(await html(ny)).document.querySelector('dl.meta')!.textContent!;
    assert.ok(meta.includes('2026-11-22 23:00 (America/New_York)'), meta);
  });
});

describe('goals', () => {
  for (const locale of ['ko', 'en'] as const) {
    it(`without a goal (${locale}) the report says so and shows no probability, in both editions`, async () => {
      const m = messages(locale);
      const vm = { ...fullWeek(locale), goal: null };
      for (const edition of ['learner', 'teacher'] as const) {
        const { document } = parseHTML(await html(vm, edition));
        const goal = document.querySelector('section#goal')!.textContent!;
        assert.ok(goal.includes(m.noGoal), goal);
        assert.doesNotMatch(goal, /\d/);
        const row = [...document.querySelectorAll('section#kpis tr')].find((r) =>
          r.textContent!.includes(m.kpiLabels.P),
        )!;
        assert.ok(row.textContent!.includes(m.noGoalShort) && !row.textContent!.includes('71%'));
      }
      const withGoal = parseHTML(await html(fullWeek(locale))).document.querySelector('section#goal')!;
      assert.match(withGoal.textContent!, /71%/);
    });
  }
});

describe('names and plurals', () => {
  it('English reports name topics in English, and say so where a topic has no English name', async () => {
    const m = messages('en');
    const { document } = parseHTML(await html(fullWeek('en')));
    const topics = document.querySelector('section#topics')!.textContent!;
    assert.ok(topics.includes('Linear equations') && !topics.includes('일차방정식'), topics);
    assert.ok(topics.includes('확률과 통계 <기초> & "심화" *') && topics.includes(m.nameFallback));
    const ko = parseHTML(await html(fullWeek('ko'))).document.querySelector('section#topics')!;
    assert.ok(!ko.textContent!.includes(messages('ko').nameFallback));
  });

  it('counts agree with their nouns in English', () => {
    const en = messages('en');
    assert.equal(en.dailyTotal(1, 1, 1), '1 item answered on 1 day this week, 1 correct.');
    assert.equal(en.dailyTotal(20, 12, 3), '20 items answered on 3 days this week, 12 correct.');
  });
});

describe('the HTML font', () => {
  const require = createRequire(import.meta.url);
  const fontkit = require(
    createRequire(createRequire(require.resolve('pdfmake')).resolve('pdfkit')).resolve('fontkit'),
  ) as {
    create(b: Buffer): {
      type: string;
      characterSet: number[];
      glyphForCodePoint(c: number): { path: { commands: unknown[] } };
    };
  };

  for (const [locale, edition] of [
    ['ko', 'learner'],
    ['ko', 'teacher'],
    ['en', 'learner'],
  ] as const) {
    it(`is embedded as WOFF2 and covers every Hangul syllable of the page, with outlines (${locale}, ${edition})`, async () => {
      const source = await html(fullWeek(locale), edition);
      const data = /url\(data:font\/woff2;base64,([A-Za-z0-9+/=]+)\)/.exec(source);
      assert.ok(data, 'an embedded WOFF2 font');
      const font = fontkit.create(Buffer.from(data[1], 'base64'));
      assert.equal(font.type, 'WOFF2');
      const covered = new Set(font.characterSet);
      const hangul = [...new Set(source.replace(data[0], ''))].filter((c) => /\p{Script=Hangul}/u.test(c));
      assert.ok(hangul.length > (locale === 'ko' ? 100 : 5), `${hangul.length} Hangul characters`);
      for (const c of hangul) assert.ok(covered.has(c.codePointAt(0)!), `no glyph for ${c}`);
      assert.ok(font.glyphForCodePoint('학'.codePointAt(0)!).path.commands.length > 0 || locale === 'en');
      assert.ok(font.glyphForCodePoint('A'.codePointAt(0)!).path.commands.length > 0);
    });
  }
});
