import { CoupaHttpError } from '../../coupa/errors.js';
import { z } from 'zod';
import { IdOnlySchema } from '../../coupa/models.js';
import type { ArrayMembership } from '../types/index.js';
import { readUser, userPath, type FieldSpec, type ProvisioningContext } from './context.js';

/** An item of a user's association array, as the API shows it. */
export interface Ref {
  id: number;
  name?: string | null;
}

const RefSchema = z.looseObject({ id: z.number().int(), name: z.string().nullish() });

function listSchema(membership: ArrayMembership) {
  const field = membership.userField;
  return z.looseObject({ id: z.number().int(), [field]: z.array(RefSchema).nullish() });
}

export function listFields(membership: ArrayMembership): FieldSpec {
  return ['id', { [membership.userField]: ['id', 'name'] }];
}

function listOf(membership: ArrayMembership, user: Record<string, unknown>): Ref[] {
  const items = user[membership.userField] as Ref[] | null | undefined;
  return (items ?? []).map((r) => ({ id: r.id, name: r.name ?? null }));
}

/** Reads just one association array of the user, fresh from the API. */
export async function readList(
  ctx: ProvisioningContext,
  userId: number,
  membership: ArrayMembership,
): Promise<Ref[]> {
  return listOf(membership, await readUser(ctx, userId, listFields(membership), listSchema(membership)));
}

/** The body that sets the array to `list`: every item by id, the complete list. */
export function listBody(membership: ArrayMembership, list: readonly Ref[]): Record<string, unknown> {
  return { [membership.userField]: list.map((r) => ({ id: r.id })) };
}

/**
 * PUTs the list, then reads it back and returns what the read says. The PUT's own answer is the
 * object as that request left it; a concurrent writer (another process with other lock files, an
 * admin in Coupa's UI) can change it the next moment. Every check a caller makes on the result
 * (granted, removed, restored) is therefore made against a fresh read, not against the echo.
 */
export async function putList(
  ctx: ProvisioningContext,
  userId: number,
  membership: ArrayMembership,
  list: readonly Ref[],
): Promise<Ref[]> {
  const echoed = listOf(
    membership,
    await ctx.api.put(userPath(userId), listBody(membership, list), {
      fields: listFields(membership),
      schema: listSchema(membership),
    }),
  );
  const read = await readList(ctx, userId, membership);
  if (!sameIds(echoed, read)) {
    ctx.logger.warn(
      {
        userId,
        field: membership.userField,
        answered: describeList(echoed),
        readBack: describeList(read),
      },
      'the list read back differs from what the write answered; checking the read',
    );
  }
  return read;
}

function sameIds(a: readonly Ref[], b: readonly Ref[]): boolean {
  const x = ids(a);
  return a.length === b.length && b.every((r) => x.has(r.id));
}

/**
 * Whether Coupa has the entitlement, to tell "not held" from "no such thing". The object must
 * exist, and where only some objects carry the entitlement (approvers exist only on groups that
 * can approve) it must be one of those. `reason` says what the API answered.
 */
export type EntitlementCheck =
  | { exists: true }
  | { exists: false; reason: string }
  /** The check itself failed (e.g. the token lacks the read scope for that resource). */
  | { exists: undefined };

export async function checkEntitlement(
  ctx: ProvisioningContext,
  membership: ArrayMembership,
  id: number,
): Promise<EntitlementCheck> {
  const path = `${membership.resource.spec.list.path}/${id}`;
  const { appliesTo } = membership;
  let obj: Record<string, unknown>;
  try {
    obj = await ctx.api.get(path, {
      fields: ['id', ...(appliesTo?.listFields ?? [])],
      schema: IdOnlySchema,
    });
  } catch (err) {
    if (err instanceof CoupaHttpError && err.status === 404)
      return {
        exists: false,
        reason: `Coupa has no ${membership.noun} ${id} (${ctx.baseUrl}${path} answered 404)`,
      };
    ctx.logger.debug({ err: String(err) }, 'existence check failed; treating the entitlement as existing');
    return { exists: undefined };
  }
  if (appliesTo && !appliesTo.test(obj)) {
    return {
      exists: false,
      reason: `Coupa has no ${membership.noun} ${id}: ${membership.resource.spec.noun} ${id} (${ctx.baseUrl}${path}) ${appliesTo.unmet}`,
    };
  }
  return { exists: true };
}

export const ids = (list: readonly Ref[]): Set<number> => new Set(list.map((r) => r.id));

export function holdsAll(list: readonly Ref[], wanted: readonly Ref[]): boolean {
  const have = ids(list);
  return wanted.every((r) => have.has(r.id));
}

export function holdsAny(list: readonly Ref[], unwanted: readonly Ref[]): boolean {
  const have = ids(list);
  return unwanted.some((r) => have.has(r.id));
}

export function describeList(list: readonly Ref[]): string {
  return list.length ? list.map((r) => (r.name ? `${r.id} (${r.name})` : String(r.id))).join(', ') : '(none)';
}
