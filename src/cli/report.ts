// `seedtest report --user U --week W [--format html|pdf] [--locale ko|en] [--edition learner|teacher]
// --out FILE`: renders one learner's weekly report from the database into a local file, storing and
// recording nothing. For template work: edit src/reports/, run it again, reload the file.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { isoWeekStart, parseDay } from '../jobs/dates.js';
import { InvalidInputError } from '../user-error.js';
import { withDatabase } from './database.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .requiredOption('--user <user_id>', 'the learner')
    .requiredOption('--week <YYYY-MM-DD>', 'a day of the ISO week (its Monday is used)')
    .option('--format <format>', 'html | pdf (default: from the --out extension, else html)')
    .option('--locale <locale>', "ko | en (default: the learner's)")
    .option('--edition <edition>', 'learner | teacher', 'learner')
    .requiredOption('--out <file>', 'where to write the report')
    .action(
      async (o: {
        user: string;
        week: string;
        format?: string;
        locale?: string;
        edition: string;
        out: string;
      }) => {
        const format = o.format ?? (o.out.toLowerCase().endsWith('.pdf') ? 'pdf' : 'html');
        if (format !== 'html' && format !== 'pdf')
          throw new InvalidInputError(`--format must be html or pdf, got "${format}"`);
        if (o.locale !== undefined && o.locale !== 'ko' && o.locale !== 'en')
          throw new InvalidInputError(`--locale must be ko or en, got "${o.locale}"`);
        if (o.edition !== 'learner' && o.edition !== 'teacher')
          throw new InvalidInputError(`--edition must be learner or teacher, got "${o.edition}"`);
        const { locale, edition } = o;
        const weekStart = isoWeekStart(parseDay(o.week, '--week'));
        const config = loadConfig();
        // Loaded here: the renderers stay out of the other commands' start-up.
        const { buildViewModels } = await import('../reports/build.js');
        const { renderReport } = await import('../reports/render.js');
        const vm = await withDatabase(config, 'report', async (database) =>
          (
            await buildViewModels(database.db, [o.user], {
              weekStart,
              timeZone: config.reports.timeZone,
              settings: { score: config.reports.score, rules: config.reports.rules },
              generatedAt: new Date(),
              locale,
            })
          ).get(o.user),
        );
        if (!vm) throw new InvalidInputError(`no learner "${o.user}" in the database`);
        const bytes = await renderReport(vm, format, edition);
        await writeFile(o.out, bytes);
        const what = vm.flags.empty_week
          ? 'short report: no attempt that week'
          : `${vm.topics.length} topics`;
        console.log(
          `wrote ${o.out} (${format}, ${vm.learner.locale}, ${edition}'s edition, ${bytes.length} bytes): ${o.user}, week of ${weekStart}, ${what}`,
        );
      },
    );
}
