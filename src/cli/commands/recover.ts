import { existsSync } from 'node:fs';
import type { CliCommand } from '../command.js';
import { ConfigError } from '../../errors.js';
import {
  reportRecovery,
  requireProvisioning,
  withProvisioner,
  type ProvisioningFlags,
} from '../provisioning-one-shot.js';
import { provisioningCommand } from './grant.js';

/**
 * A journal named by --journal (or BATON_JOURNAL) is recover's input: one that does not exist is a
 * wrong path, never "nothing to recover" (every provisioning run creates its journal, even empty).
 * Checked before the provisioner, which would create the file and its folders.
 */
function requireJournal(path: string | undefined): void {
  if (path === undefined || existsSync(path)) return;
  throw new ConfigError(
    `The journal ${path} does not exist.`,
    'Pass the --journal the failed command used (its exit-5 message names it), or leave --journal out ' +
      "to read the tenant's default journal.",
  );
}

export const recoverCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'recover')
      .description(
        'Finish removals that a failure left half-done: for every unfinished entry of the journal, read the user ' +
          'fresh and put back the intended list (needs -p). Exit code 5 while any entry still fails or a journal line ' +
          'cannot be read.',
      )
      .addHelpText(
        'after',
        `
Run it with the connection flags (or BATON_* variables) of the command that exited 5; it finds
the journal in the tenant's state folder, or where --journal points.

Examples:
  $ coupa-connector recover -p --coupa-domain acme --coupa-client-id ID
  $ coupa-connector recover -p --journal /var/lib/coupa/journal.jsonl     the journal the failed run named
  $ coupa-connector recover -p --dry-run                                  the PUTs it would send, none sent`,
      )
      .action(async (opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'recover');
        requireJournal(opts.journal);
        await withProvisioner(opts, async (p) => reportRecovery(await p.recover()));
      });
  },
};
