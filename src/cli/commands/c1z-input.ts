import { Option, type Command } from 'commander';
import { option } from '../options.js';
import { C1zReader } from '../../c1z/reader.js';
import { safeText } from '../../util/safe-text.js';
import type { InspectIo, OutputFormat } from './inspect-output.js';

/** The flags every command that reads a c1z shares with the inspector. */
export interface C1zInputOptions {
  file: string;
  syncId?: string;
}

export function addC1zInputOptions(cmd: Command, formats?: OutputFormat[]): Command {
  cmd
    .addOption(option('-f, --file <path>', 'the c1z file to read').default('sync.c1z'))
    .addOption(new Option('--sync-id <id>', 'read this sync instead of the latest finished one'));
  if (formats) {
    cmd.addOption(
      new Option('-o, --output <format>', `${formats.join(', ')}`).choices(formats).default(formats[0]),
    );
  }
  return cmd;
}

/**
 * Opens the file, says on stderr when the sync shown is not a finished one (as the inspector does),
 * runs `use` and always removes the decoded copy.
 */
export async function withC1z<T>(
  o: C1zInputOptions,
  io: InspectIo,
  use: (reader: C1zReader) => Promise<T> | T,
): Promise<T> {
  const reader = await C1zReader.open(o.file, { syncId: o.syncId });
  try {
    if (!reader.sync) {
      io.err(
        safeText(`warning: ${o.file} has no sync run; showing rows of every sync, as baton does.`) + '\n',
      );
    } else if (!reader.finished) {
      // The sync id comes from the file: shown through the sanitiser like any of its text.
      io.err(
        safeText(
          `warning: the latest sync in ${o.file} (${reader.sync.syncId}) never finished; showing it anyway, as baton does.`,
        ) + '\n',
      );
    }
    return await use(reader);
  } finally {
    reader.close();
  }
}
