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
      .action(async (opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'recover');
        requireJournal(opts.journal);
        await withProvisioner(opts, async (p) => reportRecovery(await p.recover()));
      });
  },
};
