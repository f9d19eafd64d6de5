// `seedtest import` and `seedtest demo`: source data into the database.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { dashboardLink, mintToken } from '../api/tokens.js';
import { groupLearnersIntoCohorts, replaceCohorts } from '../cohorts/repository.js';
import { loadConfig } from '../config.js';
import { type Database, openDatabase } from '../db/connection.js';
import { ensureSchema } from '../db/migrator.js';
import { loadPlatform } from '../demo/load.js';
import { runDemoPipeline } from '../demo/pipeline.js';
import {
  checkStoredSessions,
  ImportError,
  type ParsedImport,
  parseAttemptsCsv,
  parseCohortsCsv,
  parseExamResults,
} from '../ingestion/parse.js';
import { writeSourceBatch } from '../ingestion/repository.js';
import type { TimeBounds } from '../ingestion/time.js';
import { createLogger } from '../observability/logger.js';
import { plural } from '../plural.js';
import { reportKey } from '../reports/storage.js';
import { streamPlatform } from '../synthetic/platform.js';
import { readCsv } from './csv.js';
import { withDatabase } from './database.js';
import { serveApi } from './serve.js';

const CSV_REQUIRED = ['session_id', 'user_id', 'item_id', 'correct', 'answered_at'] as const;
const COHORTS_REQUIRED = ['cohort_id', 'cohort_name', 'user_id'] as const;
/** The demo's class size. */
const DEMO_COHORT_SIZE = 30;

function parseImportFile(file: string, format: 'exam-results' | 'csv', bounds: TimeBounds): ParsedImport {
  if (format === 'csv') return parseAttemptsCsv(readCsv(file, CSV_REQUIRED), bounds);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(`${file}: cannot read (${(err as Error).message})`);
  }
  if (text.trim() === '') throw new ImportError(`${file}: the file is empty`);
  return parseExamResults(text, file, bounds);
}

/**
 * Parses the file, then writes it in one transaction after checking it against the stored
 * sessions; returns the summary line. Any error refuses the whole file.
 */
export async function importFile(
  database: Database,
  file: string,
  format: 'exam-results' | 'csv',
  options: { earliest: string },
): Promise<string> {
  const parsed = parseImportFile(file, format, { earliest: options.earliest, now: new Date() });
  const result = await writeSourceBatch(
    database.db,
    { ...parsed, learners: parsed.userIds.map((user_id) => ({ user_id })) },
    'keep',
    (stored) => checkStoredSessions(parsed, stored),
  );
  return (
    `imported ${file}: ${plural(parsed.sessions.length, 'session')}, ${plural(result.inserted, 'attempt')} inserted, ` +
    `${result.duplicates} already present, ${plural(result.learners, 'new learner')}, ${plural(result.items, 'new item')}`
  );
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
          `imported ${file}: ${plural(r.cohorts, 'cohort')} with ${plural(r.members, 'member')}, ${plural(r.learners, 'new learner')}`,
        );
        return;
      }
      if (format !== 'csv' && format !== 'exam-results')
        throw new ImportError(`--format must be exam-results, csv or cohorts, got ${format}`);
      const config = loadConfig();
      const summary = await withDatabase(config, 'import', (database) =>
        importFile(database, file, format, { earliest: config.earliestInputDate }),
      );
      console.log(summary);
    });

  program
    .command('demo')
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
            `${plural(summary.topics, 'topic')}, ${plural(summary.items, 'item')}, ${plural(summary.learners, 'learner')}, ${plural(summary.sessions, 'session')}, ` +
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
          const key = reportKey(learnerToShow, reportWeek, 'learner', 'html');
          console.log(
            config.reports.s3Bucket
              ? `a report: s3://${config.reports.s3Bucket}/${key} (learner.pdf and the teacher's edition beside it)`
              : `a report: open ${join(config.dataDir, key)} in a browser (learner.pdf and teacher.* beside it)`,
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
