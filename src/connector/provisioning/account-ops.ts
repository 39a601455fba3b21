import { CoupaHttpError } from '../../coupa/errors.js';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { LICENSE_FLAGS } from '../../coupa/models.js';
import { licenseFlagFor } from './entitlement-ref.js';
import { coupaMessageOf, readUser, withUserLock, userPath, type ProvisioningContext } from './context.js';
import { ChangeRejectedError, VerificationError } from './errors.js';
import { audited } from './audit.js';
import { writeFlagSettled } from './write-watch.js';
import type { ProvisioningResult } from './result.js';

/** Values of `authentication-method` Coupa documents (case-sensitive). */
export const AUTHENTICATION_METHODS = ['coupa_credentials', 'ldap', 'saml'] as const;

/**
 * `--create-account-profile` JSON. snake_case like baton profiles; first_name/last_name are
 * accepted next to Coupa's firstname/lastname. Unknown keys are an error: a typo would otherwise
 * silently create a user without, say, their SSO identifier.
 */
const ProfileSchema = z.strictObject({
  firstname: z.string().min(1).optional(),
  first_name: z.string().min(1).optional(),
  lastname: z.string().min(1).optional(),
  last_name: z.string().min(1).optional(),
  sso_identifier: z.string().min(1).optional(),
  employee_number: z.string().min(1).optional(),
  manager_login: z.string().min(1).optional(),
  licenses: z.union([z.array(z.string()), z.record(z.string(), z.boolean())]).optional(),
  authentication_method: z.enum(AUTHENTICATION_METHODS).optional(),
});
export type AccountProfile = z.input<typeof ProfileSchema>;

export interface CreateAccountInput {
  login: string;
  email: string;
  profile?: AccountProfile | string;
}

/** The flags an error names: the root's one-shot flags by default, `create-account`'s own otherwise. */
export interface AccountFlagNames {
  login: string;
  email: string;
  profile: string;
}
export const ONE_SHOT_ACCOUNT_FLAGS: AccountFlagNames = {
  login: '--create-account-login',
  email: '--create-account-email',
  profile: '--create-account-profile',
};

/** Validates the input and builds the POST body; throws ConfigError naming the bad field. */
export function accountBody(
  input: CreateAccountInput,
  flags: AccountFlagNames = ONE_SHOT_ACCOUNT_FLAGS,
): {
  body: Record<string, unknown>;
  licenses: Record<string, boolean>;
} {
  const login = input.login?.trim();
  const email = input.email?.trim();
  if (!login) throw new ConfigError(`${flags.login} is required to create an account.`);
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    throw new ConfigError(
      `${flags.email} must be an email address, got ${JSON.stringify(input.email ?? '')}.`,
    );
  }
  let raw: unknown = input.profile ?? {};
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (err) {
      throw new ConfigError(
        `${flags.profile} is not valid JSON: ${(err as Error).message}.`,
        profileHint(flags.profile),
      );
    }
  }
  const parsed = ProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `\`${issue.path.join('.')}\`` : 'the profile';
    throw new ConfigError(
      `${flags.profile}: ${where}: ${issue?.message ?? 'invalid'}.`,
      profileHint(flags.profile),
    );
  }
  const p = parsed.data;
  const firstname = p.firstname ?? p.first_name;
  const lastname = p.lastname ?? p.last_name;
  if (!firstname || !lastname) {
    throw new ConfigError(
      `${flags.profile} must give firstname and lastname (Coupa requires both).`,
      profileHint(flags.profile),
    );
  }
  const licenses: Record<string, boolean> = {};
  const entries: [string, boolean][] = Array.isArray(p.licenses)
    ? p.licenses.map((l) => [l, true])
    : Object.entries(p.licenses ?? {});
  for (const [id, value] of entries) {
    const flag = licenseFlagFor(id.replace(/^license:|:assigned$/g, ''));
    if (!flag) {
      throw new ConfigError(
        `${flags.profile}: unknown license ${JSON.stringify(id)}.`,
        `Known licenses: ${LICENSE_FLAGS.join(', ')}.`,
      );
    }
    licenses[flag] = value;
  }
  const body: Record<string, unknown> = { login, email, firstname, lastname, active: true, ...licenses };
  if (p.sso_identifier) body['sso-identifier'] = p.sso_identifier;
  if (p.employee_number) body['employee-number'] = p.employee_number;
  if (p.manager_login) body.manager = { login: p.manager_login };
  if (p.authentication_method) body['authentication-method'] = p.authentication_method;
  return { body, licenses };
}

function profileHint(flag: string): string {
  return (
    `Example: ${flag} '{"firstname":"Ada","lastname":"Lovelace","sso_identifier":"ada@corp",` +
    '"employee_number":"E1","manager_login":"boss","licenses":["expense-user"],"authentication_method":"saml"}\''
  );
}

const CreatedSchema = z.looseObject({
  id: z.number().int(),
  login: z.string().nullish(),
  active: z.boolean().nullish(),
});

export function createAccount(
  ctx: ProvisioningContext,
  input: CreateAccountInput,
): Promise<ProvisioningResult> {
  const { body, licenses } = accountBody(input);
  const login = body.login as string;
  return audited(ctx, { operation: 'create-account', userId: null, entitlement: undefined }, async () => {
    if (ctx.dryRun) {
      return {
        operation: 'create-account',
        outcome: 'planned',
        userId: 0,
        plannedCalls: [{ method: 'POST', path: '/api/users', body }],
        message: `Would create user ${login}.`,
      };
    }
    let created: z.infer<typeof CreatedSchema>;
    try {
      created = await ctx.api.post('/api/users', body, {
        fields: ['id', 'login', 'email', 'active', ...Object.keys(licenses)],
        schema: CreatedSchema,
      });
    } catch (err) {
      if (!(err instanceof CoupaHttpError) || (err.status !== 400 && err.status !== 422)) throw err;
      throw new ChangeRejectedError(
        `Coupa refused to create user ${login} (POST ${ctx.baseUrl}/api/users)`,
        coupaMessageOf(err),
        'A login, email, employee number or SSO identifier may already be taken, or the manager login may not exist.',
      );
    }
    const wrong = Object.entries(licenses).filter(([flag, want]) => (created[flag] === true) !== want);
    if (created.login && created.login !== login) {
      throw new VerificationError(
        `Coupa created user ${created.id} with login ${created.login}, not ${login}.`,
      );
    }
    if (wrong.length) {
      throw new VerificationError(
        `Created user ${login} as id ${created.id}, but the licenses ${wrong.map(([f]) => f).join(', ')} are not as requested.`,
        'The user exists now; fix the licenses with `coupa-connector grant license:<flag>:assigned <id> -p`.',
      );
    }
    return {
      operation: 'create-account',
      outcome: 'created',
      userId: created.id,
      after: { id: created.id, login, active: created.active ?? true, licenses },
      message: `Created user ${login} with id ${created.id}.`,
    };
  });
}

const ActiveSchema = z.looseObject({ id: z.number().int(), active: z.boolean().nullish() });

/** enable_user / disable_user: PUT {active}, then check the answer. */
export function setActive(
  ctx: ProvisioningContext,
  userId: number,
  active: boolean,
): Promise<ProvisioningResult> {
  const operation = active ? ('enable-user' as const) : ('disable-user' as const);
  return withUserLock(ctx, userId, () =>
    audited(ctx, { operation, userId }, async () => {
      const user = await readUser(ctx, userId, ['id', 'active'], ActiveSchema);
      const before = user.active === true;
      const base = { operation, userId, before };
      const verb = active ? 'enabled' : 'disabled';
      if (before === active) {
        return {
          ...base,
          outcome: `already-${verb}`,
          after: before,
          message: `User ${userId} is already ${verb}.`,
        };
      }
      const body = { active };
      if (ctx.dryRun) {
        return {
          ...base,
          outcome: 'planned',
          plannedCalls: [{ method: 'PUT', path: userPath(userId), body }],
          message: `Would ${active ? 'enable' : 'disable'} user ${userId}.`,
        };
      }
      const readActive = async () =>
        (await readUser(ctx, userId, ['id', 'active'], ActiveSchema)).active === true;
      const after = await writeFlagSettled(ctx, userId, {
        what: '`active`',
        want: active,
        put: () => ctx.api.put(userPath(userId), body, { fields: ['id', 'active'], schema: ActiveSchema }),
        read: readActive,
        notApplied: () =>
          new VerificationError(
            `PUT ${ctx.baseUrl}${userPath(userId)} {"active":${active}} answered 200 but the user is not ${verb}.`,
          ),
      });
      return { ...base, outcome: verb, after, message: `User ${userId} ${verb}.` };
    }),
  );
}
