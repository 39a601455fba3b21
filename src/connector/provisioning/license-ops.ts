import { z } from 'zod';
import type { FlagTarget } from './entitlement-ref.js';
import { readUser, userPath, withUserLock, type ProvisioningContext } from './context.js';
import { LicenseRevocationRefusedError, UnknownEntitlementError, VerificationError } from './errors.js';
import { audited } from './audit.js';
import { writeFlagSettled } from './write-watch.js';
import type { ProvisioningResult } from './result.js';

/**
 * Licenses are boolean flags on the user, so a grant or revoke is a single PUT of one key and
 * needs no journal. Coupa may answer 200 yet keep a license it will not remove (instance rules,
 * e.g. purchasing-user): the returned flag is checked, and a kept license is an error.
 */

function flagSchema(flag: string) {
  return z.looseObject({ id: z.number().int(), [flag]: z.boolean().nullish() });
}

async function readFlag(ctx: ProvisioningContext, userId: number, target: FlagTarget): Promise<boolean> {
  const user: Record<string, unknown> = await readUser(
    ctx,
    userId,
    ['id', target.flag],
    flagSchema(target.flag),
  );
  if (!(target.flag in user)) {
    throw new UnknownEntitlementError(
      target.entitlementId,
      `this Coupa instance (${ctx.baseUrl}) does not report the ${target.flag} license on users`,
      'The license may not exist in this Coupa release or instance; sync and pick a license from the c1z.',
    );
  }
  return user[target.flag] === true;
}

export function setLicense(
  ctx: ProvisioningContext,
  userId: number,
  target: FlagTarget,
  assign: boolean,
): Promise<ProvisioningResult> {
  const operation = assign ? ('grant' as const) : ('revoke' as const);
  return withUserLock(ctx, userId, () =>
    audited(ctx, { operation, userId, entitlement: target.entitlementId }, async () => {
      const before = await readFlag(ctx, userId, target);
      const base = { operation, userId, entitlementId: target.entitlementId, before };
      if (before === assign) {
        return {
          ...base,
          outcome: assign ? 'already-granted' : 'already-revoked',
          after: before,
          message: `User ${userId} ${assign ? 'already has' : 'does not have'} the ${target.flag} license; nothing to do.`,
        };
      }
      const body = { [target.flag]: assign };
      if (ctx.dryRun) {
        return {
          ...base,
          outcome: 'planned',
          plannedCalls: [{ method: 'PUT', path: userPath(userId), body }],
          message: `Would ${assign ? 'grant' : 'revoke'} the ${target.flag} license ${assign ? 'to' : 'from'} user ${userId}.`,
        };
      }
      const after = await writeFlagSettled(ctx, userId, {
        what: `the ${target.flag} license`,
        want: assign,
        put: () =>
          ctx.api.put(userPath(userId), body, {
            fields: ['id', target.flag],
            schema: flagSchema(target.flag),
          }),
        read: () => readFlag(ctx, userId, target),
        notApplied: () =>
          assign
            ? new VerificationError(
                `PUT ${ctx.baseUrl}${userPath(userId)} answered 200, but the ${target.flag} license is still not set.`,
                'The license may be unavailable on this instance (no seats left, or not purchased); check it in Coupa.',
              )
            : new LicenseRevocationRefusedError(
                String(userId),
                target.flag,
                `${ctx.baseUrl}${userPath(userId)}`,
              ),
      });
      return {
        ...base,
        outcome: assign ? 'granted' : 'revoked',
        after,
        message: `${assign ? 'Granted' : 'Revoked'} the ${target.flag} license ${assign ? 'to' : 'from'} user ${userId}.`,
      };
    }),
  );
}
