import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { addConnectionOptions } from '../connection.js';
import { addLogOptions } from '../options.js';
import {
  addProvisioningOptions,
  report,
  requireProvisioning,
  withProvisioner,
  type ProvisioningFlags,
} from '../provisioning-one-shot.js';
import { resolveEntitlement, resolveGrant } from '../../connector/provisioning/index.js';

function provisioningCommand(program: Command, name: string): Command {
  return addProvisioningOptions(addLogOptions(addConnectionOptions(program.command(name))));
}

export const grantCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'grant')
      .description(
        'Grant a role, user group, content group, account group or license to a Coupa user (needs -p). ' +
          'Idempotent: granting what the user already has succeeds without a write.',
      )
      .argument('<entitlement-id>', 'e.g. role:4:member, group:10:member, license:expense-user:assigned')
      .argument('<user-id>', 'Coupa user id')
      .action(async (entitlementId: string, userId: string, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'grant');
        resolveEntitlement(entitlementId);
        await withProvisioner(opts, async (p) => report(await p.grant(entitlementId, userId)));
      });
  },
};

export const revokeCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'revoke')
      .description(
        'Revoke an entitlement from a Coupa user (needs -p). Takes an entitlement id and a user id, or a grant id ' +
          '(<entitlement id>:user:<user id>). Where Coupa merges arrays, the removal is journaled; see `recover`.',
      )
      .argument('<id>', 'entitlement id (then give <user-id>) or grant id')
      .argument('[user-id]', 'Coupa user id, when <id> is an entitlement id')
      .action(async (id: string, userId: string | undefined, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'revoke');
        if (userId === undefined) {
          resolveGrant(id);
          await withProvisioner(opts, async (p) => report(await p.revokeGrant(id)));
          return;
        }
        resolveEntitlement(id);
        await withProvisioner(opts, async (p) => report(await p.revoke(id, userId)));
      });
  },
};

export { provisioningCommand };
