import type { CliCommand } from '../command.js';
import { addOneShotOptions, runOneShot } from '../provisioning-one-shot.js';
import { addSyncOptions, runSync, type SyncCommandOptions } from './sync.js';
import {
  addServiceModeOptions,
  isServiceMode,
  rejectServiceOnlyOptions,
  runServiceMode,
  type ServiceModeOptions,
} from '../service-mode.js';

/**
 * baton-coupa syncs when run without a command; so does this CLI, with the same flags. The root
 * also carries baton's one-shot provisioning flags (--grant-entitlement, …), which run instead of
 * a sync when given.
 */
export const rootCommand: CliCommand = {
  register(program) {
    // Root options only before a subcommand name: otherwise the root would take `sync -f x` for
    // itself, and every subcommand that also has -f or --coupa-domain would never see them.
    program.enablePositionalOptions();
    addSyncOptions(program);
    addOneShotOptions(program);
    addServiceModeOptions(program);
    program.addHelpText(
      'after',
      `
Without a command, it syncs (like baton-coupa) with the options above, or runs the one-shot
provisioning flag given (--grant-entitlement, --revoke-grant, …);
\`<command> --help\` describes each command. To try everything without a Coupa account:
  $ coupa-connector demo
To sync a tenant (the secret from BATON_COUPA_CLIENT_SECRET):
  $ coupa-connector --coupa-domain acme --coupa-client-id ID -f acme.c1z
To run as a self-hosted ConductorOne connector (service mode; see docs/service-mode.md):
  $ BATON_CLIENT_ID=… BATON_CLIENT_SECRET=… coupa-connector --coupa-domain acme --coupa-client-id ID -p`,
    );
    program.action(async (opts: SyncCommandOptions & Record<string, unknown>) => {
      // As in baton: a ConductorOne client id makes the process a service; one-shot flags are ignored then.
      if (isServiceMode(opts as { clientId?: string }))
        return runServiceMode(opts as unknown as ServiceModeOptions);
      rejectServiceOnlyOptions(program);
      if (await runOneShot(opts)) return;
      await runSync(opts);
    });
  },
};
