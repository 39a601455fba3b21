import type { CliCommand } from '../command.js';
import { option } from '../options.js';
import {
  report,
  requireProvisioning,
  withProvisioner,
  type ProvisioningFlags,
} from '../provisioning-one-shot.js';
import { provisioningCommand } from './grant.js';

interface CreateFlags extends ProvisioningFlags {
  login?: string;
  email?: string;
  profile?: string;
}

export const createAccountCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'create-account')
      .description('Create a Coupa user (POST /api/users) and print its id (needs -p).')
      .addOption(option('--login <login>', 'login of the new user (required, unique)'))
      .addOption(option('--email <email>', 'email of the new user (required, unique)'))
      .addOption(
        option(
          '--profile <json>',
          'JSON with firstname, lastname (or first_name/last_name), sso_identifier, employee_number, manager_login, ' +
            'licenses (["expense-user", …] or {"expense-user": true}) and authentication_method (coupa_credentials|ldap|saml)',
        ),
      )
      .action(async (opts: CreateFlags) => {
        requireProvisioning(opts, 'create-account');
        await withProvisioner(opts, async (p) =>
          report(
            await p.createAccount({
              login: opts.login ?? '',
              email: opts.email ?? '',
              profile: opts.profile,
            }),
          ),
        );
      });
  },
};

export const enableUserCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'enable-user')
      .description('Reactivate a Coupa user (PUT active=true) (needs -p).')
      .argument('<user-id>', 'Coupa user id')
      .action(async (userId: string, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'enable-user');
        await withProvisioner(opts, async (p) => report(await p.enableUser(userId)));
      });
  },
};

export const disableUserCommand: CliCommand = {
  register(program) {
    provisioningCommand(program, 'disable-user')
      .description('Deactivate a Coupa user (PUT active=false) (needs -p).')
      .argument('<user-id>', 'Coupa user id')
      .action(async (userId: string, opts: ProvisioningFlags) => {
        requireProvisioning(opts, 'disable-user');
        await withProvisioner(opts, async (p) => report(await p.disableUser(userId)));
      });
  },
};
