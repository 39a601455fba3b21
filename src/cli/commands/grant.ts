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
import { parseUserId, resolveEntitlement, resolveGrant } from '../../connector/provisioning/index.js';
import { ConfigError } from '../../errors.js';

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
      .addHelpText(
        'after',
        `
Examples:
  $ coupa-connector grant role:4:member 41 -p --coupa-domain acme --coupa-client-id ID
  $ coupa-connector grant license:expense-user:assigned 41 -p --dry-run      the PUT it would send, none sent
  $ coupa-connector grant group:10:approver 41 -p                            (connection from BATON_* variables)`,
      )
      .action(async (entitlementId: string, userId: string, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'grant');
        // Both ids are checked before anything is set up (the tenant's state folder included).
        resolveEntitlement(entitlementId);
        parseUserId(userId);
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
      .addHelpText(
        'after',
        `
Examples:
  $ coupa-connector revoke role:4:member 41 -p                the entitlement id, then the user id
  $ coupa-connector revoke role:4:member:user:41 -p           or the grant id alone (as \`grants\` lists it)
  $ coupa-connector revoke group:10:member 41 -p --dry-run    the PUT it would send, none sent
Exit code 5 means the removal was left half-done: run \`coupa-connector recover -p\`.`,
      )
      .action(async (id: string, userId: string | undefined, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'revoke');
        const grantId = looksLikeGrantId(id);
        if (userId === undefined) {
          if (!grantId && isEntitlementId(id)) {
            throw new ConfigError(
              `revoke ${id}: missing <user-id>.`,
              `Give the Coupa user id after the entitlement id (revoke ${id} 41), or a grant id (revoke ${id}:user:41).`,
            );
          }
          resolveGrant(id);
          await withProvisioner(opts, async (p) => report(await p.revokeGrant(id)));
          return;
        }
        if (grantId) {
          throw new ConfigError(
            `revoke ${id} ${userId}: a grant id takes no <user-id>; it names the user already.`,
            `Run \`revoke ${id}\`, or give the entitlement id and the user id (revoke role:4:member 41).`,
          );
        }
        resolveEntitlement(id);
        parseUserId(userId);
        await withProvisioner(opts, async (p) => report(await p.revoke(id, userId)));
      });
  },
};

/** `<entitlement id>:user:<digits>`: what a grant id looks like, whether or not the entitlement is known. */
function looksLikeGrantId(id: string): boolean {
  return /:user:\d+$/.test(id.trim());
}

function isEntitlementId(id: string): boolean {
  try {
    resolveEntitlement(id);
    return true;
  } catch {
    return false;
  }
}

export { provisioningCommand };
