import type { CliCommand } from '../command.js';
import { option } from '../options.js';
import { C1zReader } from '../../c1z/reader.js';
import { syncOutput } from '../../c1z/baton-json.js';
import { KEEP_SYNC_COUNT_ENV } from '../../c1z/history.js';
import { noDangling, type Listing, type Row } from '../../c1z/inspect.js';
import { addOutputOptions, withOutput } from './baton-output.js';
import { processIo, render, type InspectIo, type OutputFormat } from './inspect-output.js';

export interface SyncsOptions {
  file: string;
  output: OutputFormat;
}

/**
 * The sync runs a c1z holds, oldest first, with what each holds and which one baton shows: the
 * latest finished run, and the previous one that `diff` compares it with.
 */
export async function runSyncs(o: SyncsOptions, io: InspectIo = processIo): Promise<void> {
  const reader = await C1zReader.open(o.file);
  try {
    const runs = reader.syncRuns();
    const counts = reader.countsBySync();
    const finished = runs.filter((r) => r.endedAt !== null);
    const role = (id: string) =>
      finished[0]?.syncId === id
        ? 'latest'
        : finished[1]?.syncId === id
          ? 'previous'
          : runs.find((r) => r.syncId === id)?.endedAt === null
            ? 'unfinished'
            : '';
    const chronological = [...runs].sort((a, b) =>
      a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0,
    );
    if (o.output === 'json') {
      // baton's SyncListOutput, exactly.
      await io.out(JSON.stringify({ syncs: chronological.map((r) => syncOutput(r)) }, null, 2) + '\n');
      return;
    }
    const rows: Row[] = chronological.map((r) => {
      const c = counts[r.syncId] ?? { resources: 0, entitlements: 0, grants: 0 };
      return {
        cells: {
          id: r.syncId,
          started: r.startedAt,
          ended: r.endedAt ?? '(unfinished)',
          resources: String(c.resources),
          entitlements: String(c.entitlements),
          grants: String(c.grants),
          shown: role(r.syncId),
        },
        json: () => syncOutput(r),
      };
    });
    const listing: Listing = {
      name: 'syncs',
      columns: [
        { key: 'id', header: 'Sync ID' },
        { key: 'started', header: 'Started (UTC)' },
        { key: 'ended', header: 'Ended (UTC)' },
        { key: 'resources', header: 'Resources' },
        { key: 'entitlements', header: 'Entitlements' },
        { key: 'grants', header: 'Grants' },
        { key: 'shown', header: 'Shown as' },
      ],
      rows,
      dangling: noDangling(),
    };
    await render(listing, o.output, io);
    if (o.output === 'console') {
      await io.out(
        finished.length >= 2
          ? `\n\`coupa-connector diff -f ${o.file}\` shows what changed from the previous sync to the latest.\n`
          : `\nOne finished sync: the next sync adds another (the file keeps ${KEEP_SYNC_COUNT_ENV}, default 2).\n`,
      );
    }
  } finally {
    reader.close();
  }
}

export function createSyncsCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const cmd = program
        .command('syncs')
        .description('List the syncs a c1z file holds (it keeps the last BATON_KEEP_SYNC_COUNT, default 2)')
        .addOption(option('-f, --file <path>', 'the c1z file to read').default('sync.c1z'));
      addOutputOptions(cmd, "baton's SyncListOutput").action(
        async (opts: SyncsOptions & { outputFormat?: OutputFormat }) => {
          await runSyncs(withOutput(opts), io);
        },
      );
    },
  };
}

export const syncsCommand: CliCommand = createSyncsCommand();
