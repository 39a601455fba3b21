import type { CliCommand } from '../command.js';
import { option } from '../options.js';
import {
  report,
  requireProvisioning,
  withProvisioner,
  type ProvisioningFlags,
} from '../provisioning-one-shot.js';
import { provisioningCommand } from './grant.js';
import { accountBody, parseUserId } from '../../connector/provisioning/index.js';

/** This command's own flags, for the errors of the shared validation (which names the root's by default). */
const FLAGS = { login: '--login', email: '--email', profile: '--profile' };

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
          'JSON; firstname and lastname (or first_name/last_name) are required (Coupa needs both); optional: ' +
            'sso_identifier, employee_number, manager_login, licenses (["expense-user", …] or {"expense-user": true}) ' +
            'and authentication_method (coupa_credentials|ldap|saml)',
        ),
      )
      .addHelpText(
        'after',
        `
Examples:
  $ coupa-connector create-account -p --login ada --email ada@example.com \\
      --profile '{"firstname":"Ada","lastname":"Lovelace"}'
  $ coupa-connector create-account -p --login ada --email ada@example.com \\
      --profile '{"firstname":"Ada","lastname":"Lovelace","sso_identifier":"ada@corp","authentication_method":"saml","licenses":["expense-user"]}'
  $ coupa-connector create-account -p --dry-run --login ada --email ada@example.com --profile '{"firstname":"Ada","lastname":"Lovelace"}'`,
      )
      .action(async (opts: CreateFlags) => {
        requireProvisioning(opts, 'create-account');
        const input = { login: opts.login ?? '', email: opts.email ?? '', profile: opts.profile };
        // Checked here with this command's flag names, before anything is set up.
        accountBody(input, FLAGS);
        await withProvisioner(opts, async (p) => report(await p.createAccount(input)));
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
        parseUserId(userId);
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
        parseUserId(userId);
        await withProvisioner(opts, async (p) => report(await p.disableUser(userId)));
      });
  },
};
