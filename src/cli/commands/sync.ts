import { Option, type Command } from 'commander';
import type { CliCommand } from '../command.js';
import { addConnectionOptions, clientFromOptions, type ConnectionOptions } from '../connection.js';
import { addLogOptions, option, type LogOptions } from '../options.js';
import { createProgress, createProgressLog } from '../progress.js';
import { formatSummary } from '../summary.js';
import { createLogger, type Logger } from '../../log.js';
import { exitCodeOf, formatError, InterruptedError } from '../../errors.js';
import { syncToC1z, type SyncClient, type SyncSummary } from '../../connector/sync.js';
import { CoupaHttpError, CoupaUnavailableError, resolveBaseUrl } from '../../coupa/index.js';

export interface SyncCommandOptions extends ConnectionOptions, LogOptions {
  file: string;
  progress: boolean;
  skipAccountGroups?: boolean;
}

export const DEFAULT_SYNC_FILE = 'sync.c1z';

/** The sync flags, shared by the root command (baton's default action) and `sync`. */
export function addSyncOptions(cmd: Command): Command {
  addConnectionOptions(cmd);
  cmd
    .addOption(
      option(
        '-f, --file <path>',
        'the c1z file to write; replaced only once the new one is complete',
      ).default(DEFAULT_SYNC_FILE),
    )
    .addOption(
      option(
        '--skip-account-groups',
        'do not read account groups, e.g. when the OAuth client lacks core.accounting.read (without this flag they are then skipped with a warning)',
      ),
    )
    .addOption(
      new Option('--no-progress', 'no progress bar (it is only ever shown when stderr is a terminal)'),
    );
  addLogOptions(cmd);
  return cmd;
}

/**
 * Runs a sync until done or until SIGINT/SIGTERM. A signal aborts every request in flight and
 * discards the half-written file; a second signal exits at once.
 */
export async function withSignals<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new InterruptedError(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason as InterruptedError;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * One sync with a progress bar on stderr (shown only on a terminal). An OAuth client without
 * `core.accounting.read` still syncs: the client gives up that optional scope if the token is
 * refused with it, and syncToC1z skips account groups with a warning if their list is refused.
 */
export async function syncWithProgress(
  client: SyncClient,
  opts: {
    file: string;
    skipAccountGroups?: boolean;
    progress: boolean;
    logger: Logger;
    signal: AbortSignal;
    host?: string;
  },
): Promise<SyncSummary> {
  const bar = opts.progress && process.stderr.isTTY ? createProgress(true) : createProgressLog(opts.logger);
  try {
    return await syncToC1z({
      client,
      host: opts.host,
      outPath: opts.file,
      logger: opts.logger,
      signal: opts.signal,
      skipAccountGroups: opts.skipAccountGroups,
      onProgress: (p) => bar.update(p),
    });
  } finally {
    bar.stop();
  }
}

/** The host the options name, once clientFromOptions has checked them (and filled in --config). */
function hostOf(opts: ConnectionOptions): string | undefined {
  try {
    return resolveBaseUrl({ domain: opts.coupaDomain, baseUrl: opts.baseUrl }).host;
  } catch {
    return undefined;
  }
}

export async function runSync(opts: SyncCommandOptions): Promise<SyncSummary> {
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const started = Date.now();
  try {
    const summary = await withSignals((signal) => {
      const client = clientFromOptions(opts, { accounting: !opts.skipAccountGroups, logger, signal });
      return syncWithProgress(client, {
        file: opts.file,
        skipAccountGroups: opts.skipAccountGroups,
        progress: opts.progress,
        logger,
        signal,
        host: hostOf(opts),
      });
    });
    process.stdout.write(formatSummary(summary));
    return summary;
  } catch (err) {
    // A log collector sees the error as a record, as it sees "sync finished"; the human line
    // follows from main. On a terminal (console format) that line is enough.
    if (opts.logFormat === 'json') logSyncFailed(logger, err, { ...opts, durationMs: Date.now() - started });
    throw err;
  }
}

function logSyncFailed(logger: Logger, err: unknown, ctx: SyncCommandOptions & { durationMs: number }): void {
  const status =
    err instanceof CoupaHttpError
      ? err.status
      : err instanceof CoupaUnavailableError
        ? err.lastStatus
        : undefined;
  logger.error(
    {
      caller: 'cli/sync',
      host: hostOf(ctx),
      output: ctx.file,
      errorKind: err instanceof Error ? err.name : typeof err,
      status,
      endpoint: err instanceof CoupaHttpError ? `${err.method} ${err.path}` : undefined,
      exitCode: exitCodeOf(err),
      durationMs: ctx.durationMs,
      // Scrubbed of secrets by the logger's sink, as every line is.
      err: formatError(err),
    },
    'sync failed',
  );
}

export const syncCommand: CliCommand = {
  register(program) {
    const cmd = program
      .command('sync')
      .description(
        'Read users, roles, user groups, licenses, content groups and account groups from Coupa into a c1z file ' +
          '(also what runs when no command is given, as in baton-coupa).',
      );
    addSyncOptions(cmd);
    cmd.addHelpText(
      'after',
      `
Every flag can also be set through its BATON_* variable (shown above), e.g. BATON_COUPA_CLIENT_SECRET.
The output file is replaced only when the new one is complete; on an error or Ctrl-C it is left untouched.
A sync is added to the file's history: BATON_KEEP_SYNC_COUNT (variable only, default 2, as baton) is how
many full syncs the file keeps, this one included; \`diff -f <file>\` compares the last two, \`syncs\` lists them.

Examples:
  $ coupa-connector sync --coupa-domain acme --coupa-client-id ID -f acme.c1z   (secret in BATON_COUPA_CLIENT_SECRET)
  $ coupa-connector sync --base-url http://127.0.0.1:8080 --coupa-client-id ID --coupa-client-secret S`,
    );
    cmd.action(async (opts: SyncCommandOptions) => {
      await runSync(opts);
    });
  },
};
