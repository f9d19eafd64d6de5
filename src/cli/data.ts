// `seedtest import` and `seedtest demo`: source data into the database.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { dashboardLink, mintToken } from '../api/tokens.js';
import { loadConfig } from '../config.js';
import { groupLearnersIntoCohorts, replaceCohorts } from '../db/cohorts.js';
import { openDatabase } from '../db/connection.js';
import { writeSourceBatch } from '../db/ingest.js';
import { ensureSchema } from '../db/migrator.js';
import { loadPlatform } from '../demo/load.js';
import { runDemoPipeline } from '../demo/pipeline.js';
import {
  ImportError,
  type ParsedImport,
  parseAttemptsCsv,
  parseCohortsCsv,
  parseExamResults,
} from '../ingest/parse.js';
import { createLogger } from '../observability/logger.js';
import { reportKey } from '../reports/storage.js';
import { streamPlatform } from '../synthetic/platform.js';
import { readCsv } from './csv.js';
import { withDatabase } from './database.js';
import { serveApi } from './serve.js';

const CSV_REQUIRED = ['session_id', 'user_id', 'item_id', 'correct', 'answered_at'] as const;
const COHORTS_REQUIRED = ['cohort_id', 'cohort_name', 'user_id'] as const;
/** The demo's class size. */
const DEMO_COHORT_SIZE = 30;

export function parseImportFile(file: string, format: 'exam-results' | 'csv'): ParsedImport {
  if (format === 'csv') return parseAttemptsCsv(readCsv(file, CSV_REQUIRED));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(`${file}: cannot read (${(err as Error).message})`);
  }
  if (text.trim() === '') throw new ImportError(`${file}: the file is empty`);
  return parseExamResults(text, file);
}

/** Monday 00:00 UTC of the week `weeksBack` whole weeks before the current one. */
function mondayWeeksAgo(now: Date, weeksBack: number): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) - 7 * weeksBack);
  return d;
}

/** The learner whose report and token the demo points to. */
const learnerToShow = 'u-00001';

export function registerDataCommands(program: Command): void {
  program
    .command('import')
    .description(
      'import sessions and attempts (exam_results JSON lines or a CSV of attempts) or cohort rosters (CSV)',
    )
    .argument('<file>', 'the file to import')
    .option('--format <format>', 'exam-results | csv | cohorts (default: from the file extension)')
    .action(async (file: string, o: { format?: string }) => {
      const format = o.format ?? (file.endsWith('.csv') ? 'csv' : 'exam-results');
      if (format === 'cohorts') {
        const rosters = parseCohortsCsv(readCsv(file, COHORTS_REQUIRED));
        const r = await withDatabase(loadConfig(), 'import', (database) =>
          replaceCohorts(database.db, rosters),
        );
        console.log(
          `imported ${file}: ${r.cohorts} cohorts with ${r.members} members, ${r.learners} new learners`,
        );
        return;
      }
      if (format !== 'csv' && format !== 'exam-results')
        throw new ImportError(`--format must be exam-results, csv or cohorts, got ${format}`);
      const parsed = parseImportFile(file, format);
      const result = await withDatabase(loadConfig(), 'import', (database) =>
        writeSourceBatch(database.db, {
          ...parsed,
          learners: parsed.userIds.map((user_id) => ({ user_id })),
        }),
      );
      console.log(
        `imported ${file}: ${parsed.sessions.length} sessions, ${result.inserted} attempts inserted, ` +
          `${result.duplicates} already present, ${result.learners} new learners, ${result.items} new items`,
      );
    });

  program
    .command('demo')
    .description(
      'load a deterministic synthetic platform (learners, items with known parameters, weeks of sessions)',
    )
    .option('--learners <n>', 'number of learners', '500')
    .option('--weeks <n>', 'number of weeks, ending with the current one', '8')
    .option('--items <n>', 'item bank size', '200')
    .option('--seed <n>', 'random seed', '42')
    .option('--no-serve', 'load and run the pipeline, then exit instead of serving the API')
    .action(async (o: { learners: string; weeks: string; items: string; seed: string; serve: boolean }) => {
      const [learners, weeks, items, seed] = [o.learners, o.weeks, o.items, o.seed].map((v) =>
        Number.parseInt(v, 10),
      );
      const now = new Date();
      const start = mondayWeeksAgo(now, weeks - 1);
      const platform = streamPlatform({ seed, learners, weeks, items, start });
      const base = loadConfig();
      // Without a configured key the demo signs its own tokens with a secret made for this process.
      const config =
        base.auth.secret || base.auth.publicKey || base.auth.jwksUrl || base.auth.disabled
          ? base
          : {
              ...base,
              auth: { ...base.auth, algorithm: 'HS256' as const, secret: randomBytes(32).toString('hex') },
            };
      const database = await openDatabase(config, 'demo');
      try {
        await ensureSchema(database);
        const t0 = performance.now();
        const summary = await loadPlatform(
          database.db,
          platform,
          (done) => {
            if (done % 1000 === 0 || done === learners) console.log(`  loaded ${done}/${learners} learners`);
          },
          now,
        );
        console.log(
          `demo platform loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s from ${start.toISOString().slice(0, 10)}: ` +
            `${summary.topics} topics, ${summary.items} items, ${summary.learners} learners, ${summary.sessions} sessions, ` +
            `${summary.attempts} attempts (database: ${config.databaseUrl ? 'DATABASE_URL' : `${config.dataDir}/db`})`,
        );
        const cohorts = await groupLearnersIntoCohorts(database.db, DEMO_COHORT_SIZE);
        console.log(`  ${cohorts} classes of up to ${DEMO_COHORT_SIZE} learners (c-001, c-002, …)`);
        const { reportWeek } = await runDemoPipeline(database.db, config, {
          firstMonday: start.toISOString().slice(0, 10),
          weeks,
          today: now.toISOString().slice(0, 10),
          log: (line) => console.log(line),
        });
        if (reportWeek) {
          const key = reportKey(learnerToShow, reportWeek, 'html');
          console.log(
            config.reports.s3Bucket
              ? `a report: s3://${config.reports.s3Bucket}/${key} (and report.pdf beside it)`
              : `a report: open ${join(config.dataDir, key)} in a browser (report.pdf beside it)`,
          );
        }
        if (!o.serve) {
          await database.close();
          return;
        }
        const address = await serveApi(config, database, createLogger(config.logLevel));
        if (config.auth.secret && config.auth.algorithm === 'HS256') {
          const mint = (sub: string, scope: string, cohorts?: string[]) =>
            mintToken({
              secret: config.auth.secret!,
              sub,
              scope,
              ttl: '8h',
              issuer: config.auth.issuer,
              audience: config.auth.audience,
              cohorts,
            });
          console.log(`\nThe dashboard (links valid for 8 hours):
  teacher of class c-001: ${dashboardLink(address, await mint('demo-teacher', 'cohort:view', ['c-001']))}
  operator:               ${dashboardLink(address, await mint('demo-operator', 'analysis:run'))}
  learner ${learnerToShow}:        ${dashboardLink(address, await mint(learnerToShow, 'reports:view'))}`);
          console.log(`\nTry it (tokens valid for 8 hours):
  learner ${learnerToShow}: export TOKEN=${await mint(learnerToShow, 'exam:write exam:read reports:view')}
  admin:            export ADMIN=${await mint('demo-admin', 'admin')}
  curl -s -XPOST ${address}/api/seedtest/sessions -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{}'
  OpenAPI: ${address}/docs   metrics: ${address}/metrics`);
        }
      } catch (err) {
        await database.close();
        throw err;
      }
    });
}
