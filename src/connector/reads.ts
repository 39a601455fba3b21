import { APPROVAL_LIMIT_KEYS } from '../coupa/models.js';
import type { CoupaClient } from '../coupa/client.js';
import type { FieldSpec } from '../coupa/fields.js';
import { PAGE_SIZE } from '../coupa/paginate.js';
import {
  ARRAY_MEMBERSHIPS,
  FLAG_MEMBERSHIPS,
  membershipsOf,
  type CoupaNamedObject,
  type ListedResource,
} from './types/index.js';

/**
 * What the sync asks Coupa for: which endpoints, with which `fields` projection, and what that
 * costs at best. All of it follows from the membership types' list.
 */

/**
 * The fewest requests that can read a tenant without knowing its counts (issue 12's floor): one
 * token, then ⌊n/50⌋ + 1 pages per list. Coupa gives no count, so a client learns that a list has
 * ended only from a page shorter than 50: a list of 1,000 needs 20 full pages and the empty 21st,
 * and an empty list its one empty page. `lists` has the object count of every list the sync read
 * (a skipped one is absent).
 */
export function requestFloor(counts: { users: number; lists: Record<string, number> }): number {
  const pages = (n: number) => Math.floor(n / PAGE_SIZE) + 1;
  return 1 + pages(counts.users) + Object.values(counts.lists).reduce((sum, n) => sum + pages(n), 0);
}

const REF_FIELDS: FieldSpec = ['id', 'name'];
const LIMIT_FIELDS: FieldSpec = ['id', 'amount', { currency: ['code'] }];

/**
 * Exactly what the mapping reads from a user, so that a page of 50 users stays small: identity,
 * status, sign-in method, manager, approval limits, the association array of every membership type and every flag.
 * `skipped` are resource type ids the sync leaves out (an optional scope it lacks).
 */
export function userFields(skipped: readonly string[] = []): FieldSpec {
  const arrays = [
    ...new Set(ARRAY_MEMBERSHIPS.filter((m) => !skipped.includes(m.resource.id)).map((m) => m.userField)),
  ];
  return [
    'id',
    'login',
    'email',
    'firstname',
    'lastname',
    'fullname',
    'active',
    'api-user',
    'employee-number',
    'authentication-method',
    'sso-identifier',
    'created-at',
    'updated-at',
    { manager: ['id', 'login'] },
    ...APPROVAL_LIMIT_KEYS.map((k) => ({ [k]: LIMIT_FIELDS })),
    ...arrays.map((field) => ({ [field]: REF_FIELDS })),
    ...FLAG_MEMBERSHIPS.flatMap((f) => f.flags),
  ];
}

/** The list's own fields plus what its membership types' predicates read (`can-approve`). */
export function listFields(resource: ListedResource): FieldSpec {
  const out: FieldSpec = [...resource.spec.list.fields];
  for (const m of membershipsOf(resource)) {
    for (const f of m.appliesTo?.listFields ?? []) {
      if (!out.some((o) => JSON.stringify(o) === JSON.stringify(f))) out.push(f);
    }
  }
  return out;
}

/**
 * The pages of one list. One walk for every list (paginate.ts): a list of up to 49 costs its top
 * page; a longer one is read at the rate limit. No look above the top at the end: a group or role
 * created while it is read is still written if a user holds it (from the user's embedded reference).
 */
export function listPages(
  client: Pick<CoupaClient, 'paginate'>,
  resource: ListedResource,
  signal?: AbortSignal,
): AsyncGenerator<CoupaNamedObject[]> {
  return client.paginate(resource.spec.list.path, {
    itemSchema: resource.spec.list.schema,
    fields: listFields(resource),
    watchCreations: false,
    signal,
  });
}
