import type { CliCommand } from '../command.js';
import {
  reportRecovery,
  requireProvisioning,
  withProvisioner,
  type ProvisioningFlags,
} from '../provisioning-one-shot.js';
import { provisioningCommand } from './grant.js';

export const recoverCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'recover')
      .description(
        'Finish removals that a failure left half-done: for every unfinished entry of the journal, read the user ' +
          'fresh and put back the intended list (needs -p). Exit code 5 while any entry still fails.',
      )
      .action(async (opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'recover');
        await withProvisioner(opts, async (p) => reportRecovery(await p.recover()));
      });
  },
};
