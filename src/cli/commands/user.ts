import type { CliCommand } from '../command.js';
import { buildUserCard, formatUserCard, userCardJson } from '../../c1z/user-card.js';
import { resolvePrincipal } from '../../c1z/principal.js';
import { missingUser, userFacts } from '../../c1z/user-facts.js';
import { ConfigError } from '../../errors.js';
import { processIo, type InspectIo } from './inspect-output.js';
import { addC1zInputOptions, withC1z, type C1zInputOptions } from './c1z-input.js';

interface UserOptions extends C1zInputOptions {
  output: 'console' | 'json';
}

export async function runUser(who: string, o: UserOptions, io: InspectIo = processIo): Promise<void> {
  await withC1z(o, io, async (reader) => {
    const p = resolvePrincipal(reader, who);
    if (p.type !== 'user')
      throw new ConfigError(`${p.type}:${p.id} is not a user.`, 'Pass a user id, login or email.');
    const facts = p.resource ? userFacts(p.resource) : missingUser(p.id);
    const card = buildUserCard(reader, facts);
    if (o.output === 'json') await io.out(JSON.stringify(userCardJson(card), null, 2) + '\n');
    // Names and logins come from Coupa: formatUserCard escapes each one before laying out the card.
    else await io.out(formatUserCard(card));
  });
}

/** `user <login|id|email>`: the per-user card of `demo`, for any user of any c1z. */
export function createUserCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const cmd = program
        .command('user')
        .argument('<user>', 'user:ID, a bare id, a login or an email')
        .description(
          "One user's card from a c1z file: identity, status, sign-in method, manager, approval limits and everything held",
        );
      addC1zInputOptions(cmd, ['console', 'json']);
      cmd.addHelpText(
        'after',
        `
Examples:
  $ coupa-connector user alice@example.com -f sync.c1z
  $ coupa-connector user 41 -f sync.c1z -o json | jq '.holdings[].entitlementId'
  $ coupa-connector user user:41 -f sync.c1z --sync-id <id>      as an older sync had it`,
      );
      cmd.action(async (who: string, opts: UserOptions) => {
        await runUser(who, opts, io);
      });
    },
  };
}

export const userCommand: CliCommand = createUserCommand();
