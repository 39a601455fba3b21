import { CoupaHttpError } from '../../coupa/errors.js';
import type { MembershipTarget } from './entitlement-ref.js';
import { coupaMessageOf, withUserLock, userPath, type ProvisioningContext } from './context.js';
import { checkEntitlement, listBody, readList, type Ref } from './association-list.js';
import { applyList, planRemoval } from './converge.js';
import { ChangeRejectedError, UnknownEntitlementError } from './errors.js';
import { audited } from './audit.js';
import type { ProvisioningResult } from './result.js';

/** Coupa's 400 for a reference it cannot resolve: "Unable to find valid Role record for …". */
const UNKNOWN_REFERENCE = /unable to find valid|couldn't find|could not find/i;

/** Grant of a role, user group, content group or account group: read fresh, PUT the full list plus one. */
export function grantAssociation(
  ctx: ProvisioningContext,
  userId: number,
  target: MembershipTarget,
): Promise<ProvisioningResult> {
  return withUserLock(ctx, userId, () =>
    audited(ctx, { operation: 'grant', userId, entitlement: target.entitlementId }, async () => {
      const { noun } = target.membership;
      const before = await readList(ctx, userId, target.membership);
      const base = { operation: 'grant' as const, userId, entitlementId: target.entitlementId, before };
      if (before.some((r) => r.id === target.id)) {
        return {
          ...base,
          outcome: 'already-granted',
          after: before,
          message: `User ${userId} already has ${noun} ${target.id}; nothing to do.`,
        };
      }
      const desired: Ref[] = [...before, { id: target.id }];
      if (ctx.dryRun) {
        return {
          ...base,
          outcome: 'planned',
          plannedCalls: [
            { method: 'PUT', path: userPath(userId), body: listBody(target.membership, desired) },
          ],
          message: `Would grant ${noun} ${target.id} to user ${userId}.`,
        };
      }
      let after: Ref[];
      try {
        after = await applyList(ctx, {
          operation: 'grant',
          userId,
          membership: target.membership,
          entitlementId: target.entitlementId,
          desired,
          removed: [],
        });
      } catch (err) {
        if (!(err instanceof CoupaHttpError) || err.status !== 400) throw err;
        const check = await checkEntitlement(ctx, target.membership, target.id);
        if (check.exists === false) throw new UnknownEntitlementError(target.entitlementId, check.reason);
        // Without the read scope for the object (e.g. core.accounting.read) the check cannot tell;
        // Coupa's own wording for an unknown reference still can.
        if (check.exists === undefined && UNKNOWN_REFERENCE.test(coupaMessageOf(err) ?? '')) {
          throw new UnknownEntitlementError(
            target.entitlementId,
            `Coupa has no ${noun} ${target.id} (${coupaMessageOf(err)})`,
          );
        }
        throw new ChangeRejectedError(
          `Coupa refused to add ${noun} ${target.id} to user ${userId} (PUT ${ctx.baseUrl}${userPath(userId)})`,
          coupaMessageOf(err),
          'Fix what Coupa complains about (in Coupa or in the request) and rerun; nothing was changed.',
        );
      }
      return {
        ...base,
        outcome: 'granted',
        after,
        message: `Granted ${noun} ${target.id} to user ${userId}.`,
      };
    }),
  );
}

/** Revoke: read fresh, then converge to the list minus one (journaled clear-then-set if the tenant merges). */
export function revokeAssociation(
  ctx: ProvisioningContext,
  userId: number,
  target: MembershipTarget,
): Promise<ProvisioningResult> {
  return withUserLock(ctx, userId, () =>
    audited(ctx, { operation: 'revoke', userId, entitlement: target.entitlementId }, async () => {
      const { noun } = target.membership;
      const before = await readList(ctx, userId, target.membership);
      const base = { operation: 'revoke' as const, userId, entitlementId: target.entitlementId, before };
      const held = before.find((r) => r.id === target.id);
      if (!held) {
        // Not held may mean no such thing (an unknown id, or an approver on a group that cannot
        // approve): that is the same usage error a grant of it gets, not "nothing to do".
        const check = await checkEntitlement(ctx, target.membership, target.id);
        if (check.exists === false) throw new UnknownEntitlementError(target.entitlementId, check.reason);
        return {
          ...base,
          outcome: 'already-revoked',
          after: before,
          message: `User ${userId} does not have ${noun} ${target.id}; nothing to do.`,
        };
      }
      const job = {
        operation: 'revoke',
        userId,
        membership: target.membership,
        entitlementId: target.entitlementId,
        desired: before.filter((r) => r.id !== target.id),
        removed: [held],
      };
      if (ctx.dryRun) {
        return {
          ...base,
          outcome: 'planned',
          plannedCalls: planRemoval(ctx, job),
          message: `Would revoke ${noun} ${target.id} from user ${userId}.`,
        };
      }
      const after = await applyList(ctx, job);
      return {
        ...base,
        outcome: 'revoked',
        after,
        message: `Revoked ${noun} ${target.id} from user ${userId}.`,
      };
    }),
  );
}
