import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import { generateReport } from '../../report/index.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_ADMIN_PATTERN } from '../../c1z/review-queries.js';
import { reviewOptions } from './review.js';
import { addC1zInputOptions, type C1zInputOptions } from './c1z-input.js';
import { processIo, type InspectIo } from './inspect-output.js';

interface ReportCliOptions extends C1zInputOptions {
  out?: string;
  title?: string;
  adminPattern?: string;
  sodRules?: string;
  compare: boolean;
  compareWith?: string;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);

export async function runReport(o: ReportCliOptions, io: InspectIo = processIo): Promise<void> {
  if (!o.out)
    throw new ConfigError('report needs --out <file.html>.', 'e.g. report -f sync.c1z --out report.html');
  const review = reviewOptions(o);
  const result = await generateReport({
    file: o.file,
    out: o.out,
    syncId: o.syncId,
    title: o.title,
    review,
    previousSyncId: o.compare === false ? false : o.compareWith,
    onPhase: (p) =>
      io.err(
        `${p === 'reading' ? 'reading' : p === 'comparing' ? 'comparing with the previous sync in' : 'writing the report for'} ${o.file}…\n`,
      ),
  });
  const s = result.summary;
  const findings = Object.entries(s.findings)
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(', ');
  await io.out(
    `Wrote ${result.path}: ${mb(result.bytes)} MB, ${s.users.toLocaleString('en-US')} users, ` +
      `${s.grants.toLocaleString('en-US')} grants, in ${(result.durationMs / 1000).toFixed(1)} s\n` +
      `  findings: ${findings}\n` +
      (result.changes
        ? `  changes since sync ${result.previousSyncId}: ${Object.entries(result.changes)
            // Grants and users always (a 0 is news in a review); resources and entitlements when any.
            .filter(([k, n]) => n > 0 || k.startsWith('grant') || k.startsWith('user'))
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}\n`
        : '  one sync in the file: no changes section\n'),
  );
}

export function createReportCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const cmd = program
        .command('report')
        .description(
          'Write an access-review report: one self-contained HTML file (no network) with summary figures, ' +
            'the review findings, searchable tables per role, license and group, a page per user, and the ' +
            'changes since the previous sync when the file holds two',
        );
      addC1zInputOptions(cmd);
      cmd
        .addOption(new Option('--out <file.html>', 'where to write the report (replaced only once complete)'))
        .addOption(new Option('--title <text>', 'page title (default: "Access review: <file>")'))
        .addOption(
          new Option(
            '--admin-pattern <regex>',
            'role names that count as admin-like (case-insensitive)',
          ).default(DEFAULT_ADMIN_PATTERN),
        )
        .addOption(
          new Option('--sod-rules <file>', 'JSON file of forbidden pairs (default: the built-in example)'),
        )
        .addOption(new Option('--compare-with <sync-id>', 'compare with this sync instead of the one before'))
        .addOption(new Option('--no-compare', 'leave the changes section out'))
        .addHelpText(
          'after',
          `
Examples:
  $ coupa-connector report -f sync.c1z --out review.html
  $ coupa-connector report -f sync.c1z --out review.html --title "Q3 access review" --sod-rules sod.json
  $ coupa-connector report -f sync.c1z --out review.html --compare-with <sync-id>   see \`syncs -f sync.c1z\`
The page needs no network; open it in any browser. --out is checked before the file is read.`,
        );
      cmd.action(async (opts: ReportCliOptions) => {
        await runReport(opts, io);
      });
    },
  };
}

export const reportCommand: CliCommand = createReportCommand();
