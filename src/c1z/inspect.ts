/**
 * What the inspector commands show, independent of how it is printed. Each listing yields rows
 * lazily (JSON and CSV stream them) and reports dangling references — grants whose entitlement,
 * principal or entitlement resource is absent from the sync — once iteration ends. baton's own
 * `grants` command fails on those; here they are shown and flagged instead.
 */
import { toJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { c1zRegistry } from './any.js';
import {
  Entitlement_PurposeValue,
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceType_Trait,
  ResourceTypeSchema,
  type Grant,
} from './messages.js';
import type { C1zReader } from './reader.js';
import { userFacts, type UserFacts } from './user-facts.js';

export interface Column {
  key: string;
  header: string;
}

export interface Row {
  /** Plain strings for console and CSV, keyed by Column.key. */
  cells: Record<string, string>;
  /** The row in JSON output; built only when JSON is asked for (it costs more than the cells). */
  json: () => JsonValue;
}

export interface Listing {
  /** Key of the row array in the JSON document. */
  name: string;
  columns: Column[];
  /** JSON fields written before the rows (e.g. the principal an access query is about). */
  head?: Record<string, JsonValue>;
  rows: Iterable<Row>;
  /** JSON output is the head alone (stats). */
  headOnlyJson?: boolean;
  /** Filled in while `rows` is iterated; read it afterwards. */
  dangling: DanglingCounts;
}

export interface DanglingCounts {
  grants: number;
  entitlement: number;
  principal: number;
  resource: number;
}

/** `type:id` or a bare id; the type never contains a colon, ids may. */
export interface ObjectRef {
  type?: string;
  id: string;
}

export function parseRef(value: string, defaultType?: string): ObjectRef {
  if (defaultType !== undefined && !value.startsWith(`${defaultType}:`))
    return { type: defaultType, id: value };
  const i = value.indexOf(':');
  if (i <= 0 || i === value.length - 1) return { type: defaultType, id: value };
  return { type: value.slice(0, i), id: value.slice(i + 1) };
}

export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  try {
    return toJson(schema, message, { registry: c1zRegistry });
  } catch (err) {
    // An annotation type this build does not know cannot be rendered as protojson; say so in the
    // row rather than failing the whole listing.
    return { unrenderable: (err as Error).message };
  }
}

const traitNames: Record<number, string> = {
  [ResourceType_Trait.USER]: 'user',
  [ResourceType_Trait.GROUP]: 'group',
  [ResourceType_Trait.ROLE]: 'role',
  [ResourceType_Trait.APP]: 'app',
};

const purposeNames: Record<number, string> = {
  [Entitlement_PurposeValue.ASSIGNMENT]: 'assignment',
  [Entitlement_PurposeValue.PERMISSION]: 'permission',
};

const refText = (type: string | undefined, id: string | undefined) =>
  type || id ? `${type ?? ''}:${id ?? ''}` : '';
/** For listings that resolve no grant references, so nothing in them can dangle. */
export const noDangling = (): DanglingCounts => ({ grants: 0, entitlement: 0, principal: 0, resource: 0 });

export function listResourceTypes(reader: C1zReader): Listing {
  return {
    name: 'resourceTypes',
    columns: [
      { key: 'id', header: 'ID' },
      { key: 'displayName', header: 'Display Name' },
      { key: 'traits', header: 'Traits' },
    ],
    dangling: noDangling(),
    rows: map(reader.resourceTypes(), (rt) => ({
      cells: {
        id: rt.id,
        displayName: rt.displayName,
        traits: rt.traits.map((t) => traitNames[t] ?? String(t)).join(' '),
      },
      json: () => messageJson(ResourceTypeSchema, rt),
    })),
  };
}

export function listResources(reader: C1zReader, filter: { resourceType?: string }): Listing {
  return {
    name: 'resources',
    columns: [
      { key: 'resourceType', header: 'Resource Type' },
      { key: 'id', header: 'ID' },
      { key: 'displayName', header: 'Display Name' },
      { key: 'parent', header: 'Parent' },
    ],
    dangling: noDangling(),
    rows: map(reader.resources(filter), (r) => ({
      cells: {
        resourceType: r.id?.resourceType ?? '',
        id: r.id?.resource ?? '',
        displayName: r.displayName,
        parent: refText(r.parentResourceId?.resourceType, r.parentResourceId?.resource),
      },
      json: () => messageJson(ResourceSchema, r),
    })),
  };
}

export function listEntitlements(
  reader: C1zReader,
  filter: { resourceType?: string; resourceId?: string },
): Listing {
  // One grouped count for all rows: a role held by 50k users costs no more than one held by none.
  const members = reader.grantCountsByEntitlement();
  return {
    name: 'entitlements',
    columns: [
      { key: 'id', header: 'ID' },
      { key: 'displayName', header: 'Display Name' },
      { key: 'resource', header: 'Resource' },
      { key: 'purpose', header: 'Purpose' },
      { key: 'slug', header: 'Slug' },
      { key: 'members', header: 'Members' },
    ],
    dangling: noDangling(),
    rows: map(reader.entitlements(filter), (e) => ({
      cells: {
        id: e.id,
        displayName: e.displayName,
        resource: refText(e.resource?.id?.resourceType, e.resource?.id?.resource),
        purpose: purposeNames[e.purpose] ?? '',
        slug: e.slug,
        members: String(members.get(e.id) ?? 0),
      },
      json: () => messageJson(EntitlementSchema, e),
    })),
  };
}

/** What a listing needs to know about an object a grant points at. */
interface Found {
  displayName: string;
}

/**
 * Looks up what grants point at, once per object: grants repeat the same few entitlements and
 * users. Only display names are kept, so a file with a million grants over 100k users stays small.
 */
class Lookups {
  private readonly resources = new Map<string, Found | null>();
  private readonly users = new Map<string, UserFacts | null>();
  private readonly entitlements = new Map<string, Found | null>();
  constructor(private readonly reader: C1zReader) {}

  resource(type: string | undefined, id: string | undefined): Found | undefined {
    if (!type || !id) return undefined;
    const key = `${type}:${id}`;
    let hit = this.resources.get(key);
    if (hit === undefined) {
      const r = this.reader.getResource(type, id);
      hit = r ? { displayName: r.displayName } : null;
      this.resources.set(key, hit);
    }
    return hit ?? undefined;
  }

  /** The review facts of a user principal (login, email, status, type, manager). */
  user(id: string | undefined): UserFacts | undefined {
    if (!id) return undefined;
    let hit = this.users.get(id);
    if (hit === undefined) {
      const r = this.reader.getResource('user', id);
      hit = r ? userFacts(r) : null;
      this.users.set(id, hit);
    }
    return hit ?? undefined;
  }

  entitlement(id: string | undefined): Found | undefined {
    if (!id) return undefined;
    let hit = this.entitlements.get(id);
    if (hit === undefined) {
      const e = this.reader.getEntitlement(id);
      hit = e ? { displayName: e.displayName } : null;
      this.entitlements.set(id, hit);
    }
    return hit ?? undefined;
  }
}

interface ResolvedGrant {
  grant: Grant;
  entitlement: Found | undefined;
  principal: Found | undefined;
  resource: Found | undefined;
  missing: ('entitlement' | 'principal' | 'resource')[];
}

function resolveGrant(lookups: Lookups, counts: DanglingCounts, grant: Grant): ResolvedGrant {
  const entId = grant.entitlement?.id;
  const entitlement = lookups.entitlement(entId);
  const principal = lookups.resource(grant.principal?.id?.resourceType, grant.principal?.id?.resource);
  const resId = grant.entitlement?.resource?.id;
  const resource = lookups.resource(resId?.resourceType, resId?.resource);
  const missing = countMissing(counts, { entitlement, principal, resource });
  return { grant, entitlement, principal, resource, missing };
}

/** The parts of one grant the file lacks (those `found` as undefined), counted into `counts`. */
export function countMissing(
  counts: DanglingCounts,
  found: { entitlement: unknown; principal: unknown; resource: unknown },
): ('entitlement' | 'principal' | 'resource')[] {
  const missing = (['entitlement', 'principal', 'resource'] as const).filter((k) => !found[k]);
  if (missing.length) {
    counts.grants++;
    for (const m of missing) counts[m]++;
  }
  return missing;
}

const MISSING_MARK = 'MISSING';

/** The Missing cell of a grant row: `MISSING: principal`, or '' when nothing is missing. */
export function missingText(missing: readonly string[]): string {
  return missing.length ? `${MISSING_MARK}: ${missing.join(',')}` : '';
}

export function listGrants(
  reader: C1zReader,
  filter: { resourceType?: string; resourceId?: string; entitlementId?: string; principal?: ObjectRef },
): Listing {
  const dangling = noDangling();
  const lookups = new Lookups(reader);
  const grants = reader.grants({
    resourceType: filter.resourceType,
    resourceId: filter.resourceId,
    entitlementId: filter.entitlementId,
    principalType: filter.principal?.type,
    principalId: filter.principal?.id,
  });
  return {
    name: 'grants',
    columns: [
      { key: 'id', header: 'ID' },
      { key: 'entitlement', header: 'Entitlement' },
      { key: 'entitlementName', header: 'Entitlement Name' },
      { key: 'principal', header: 'Principal' },
      { key: 'principalName', header: 'Principal Name' },
      { key: 'missing', header: 'Missing' },
    ],
    dangling,
    rows: map(grants, (g) => {
      const r = resolveGrant(lookups, dangling, g);
      return {
        cells: {
          id: g.id,
          entitlement: g.entitlement?.id ?? '',
          entitlementName: r.entitlement?.displayName ?? '',
          principal: refText(g.principal?.id?.resourceType, g.principal?.id?.resource),
          principalName: r.principal?.displayName ?? '',
          missing: missingText(r.missing),
        },
        json: () => ({
          grant: messageJson(GrantSchema, g),
          entitlementDisplayName: r.entitlement?.displayName ?? null,
          principalDisplayName: r.principal?.displayName ?? null,
          dangling: r.missing.length > 0,
          missing: r.missing,
        }),
      };
    }),
  };
}

/** Every entitlement a principal holds (`access --principal user:42`). */
export function accessOfPrincipal(reader: C1zReader, principal: ObjectRef): Listing {
  const dangling = noDangling();
  const lookups = new Lookups(reader);
  const type = principal.type;
  const self = type ? lookups.resource(type, principal.id) : undefined;
  const user = type === 'user' ? lookups.user(principal.id) : undefined;
  return {
    name: 'entitlements',
    head: {
      principal: {
        resourceType: type ?? null,
        id: principal.id,
        displayName: self?.displayName ?? null,
        missing: type ? !self : null,
        ...(user ? { user: userJson(user) } : {}),
      },
    },
    columns: [
      { key: 'entitlement', header: 'Entitlement' },
      { key: 'entitlementName', header: 'Entitlement Name' },
      { key: 'resource', header: 'Resource' },
      { key: 'resourceName', header: 'Resource Name' },
      { key: 'principal', header: 'Principal' },
      { key: 'missing', header: 'Missing' },
    ],
    dangling,
    rows: map(reader.grants({ principalType: type, principalId: principal.id }), (g) => {
      const r = resolveGrant(lookups, dangling, g);
      const res = g.entitlement?.resource?.id;
      return {
        cells: {
          entitlement: g.entitlement?.id ?? '',
          entitlementName: r.entitlement?.displayName ?? '',
          resource: refText(res?.resourceType, res?.resource),
          resourceName: r.resource?.displayName ?? '',
          principal: refText(g.principal?.id?.resourceType, g.principal?.id?.resource),
          missing: missingText(r.missing),
        },
        json: () => ({
          entitlementId: g.entitlement?.id ?? null,
          entitlementDisplayName: r.entitlement?.displayName ?? null,
          resourceType: res?.resourceType ?? null,
          resourceId: res?.resource ?? null,
          resourceDisplayName: r.resource?.displayName ?? null,
          principalType: g.principal?.id?.resourceType ?? null,
          principalId: g.principal?.id?.resource ?? null,
          grantId: g.id,
          dangling: r.missing.length > 0,
          missing: r.missing,
        }),
      };
    }),
  };
}

/** Every principal holding an entitlement (`access --entitlement role:3:member`). */
export function accessToEntitlement(reader: C1zReader, entitlementId: string): Listing {
  const dangling = noDangling();
  const lookups = new Lookups(reader);
  const ent = reader.getEntitlement(entitlementId);
  return {
    name: 'principals',
    head: {
      entitlement: {
        id: entitlementId,
        displayName: ent?.displayName ?? null,
        resourceType: ent?.resource?.id?.resourceType ?? null,
        resourceId: ent?.resource?.id?.resource ?? null,
        missing: !ent,
      },
    },
    columns: [
      { key: 'principal', header: 'Principal' },
      { key: 'principalName', header: 'Principal Name' },
      ...USER_COLUMNS,
      { key: 'grant', header: 'Grant' },
      { key: 'missing', header: 'Missing' },
    ],
    dangling,
    rows: map(reader.grants({ entitlementId }), (g) => {
      const r = resolveGrant(lookups, dangling, g);
      const user =
        g.principal?.id?.resourceType === 'user' ? lookups.user(g.principal.id.resource) : undefined;
      return {
        cells: {
          principal: refText(g.principal?.id?.resourceType, g.principal?.id?.resource),
          principalName: r.principal?.displayName ?? '',
          ...userCells(user),
          grant: g.id,
          missing: missingText(r.missing),
        },
        json: () => ({
          principalType: g.principal?.id?.resourceType ?? null,
          principalId: g.principal?.id?.resource ?? null,
          principalDisplayName: r.principal?.displayName ?? null,
          user: user ? userJson(user) : null,
          grantId: g.id,
          dangling: r.missing.length > 0,
          missing: r.missing,
        }),
      };
    }),
  };
}

/** What a reviewer needs beside each principal: who it is and whether it can still sign in. */
const USER_COLUMNS: Column[] = [
  { key: 'login', header: 'Login' },
  { key: 'email', header: 'Email' },
  { key: 'status', header: 'Status' },
  { key: 'userType', header: 'User Type' },
  { key: 'manager', header: 'Manager' },
];

export function managerText(u: UserFacts): string {
  return u.managerLogin ?? (u.managerId ? `user:${u.managerId}` : '');
}

function userCells(u: UserFacts | undefined): Record<string, string> {
  return {
    login: u?.login ?? '',
    email: u?.email ?? '',
    status: u?.status ?? '',
    userType: u?.accountType ?? '',
    manager: u ? managerText(u) : '',
  };
}

/** A user's review facts in JSON rows: nulls for what the file does not say. */
export function userJson(u: UserFacts): JsonValue {
  return {
    login: u.login || null,
    email: u.email || null,
    status: u.status,
    accountType: u.accountType,
    managerId: u.managerId ?? null,
    managerLogin: u.managerLogin ?? null,
    manager: managerText(u) || null,
    authenticationMethod: u.authenticationMethod ?? null,
    ssoIdentifier: u.ssoIdentifier ?? null,
    sso: u.sso ?? null,
  };
}

export function statsListing(reader: C1zReader): Listing {
  const s = reader.stats();
  const rows: Row[] = [];
  const add = (what: string, n: number) => rows.push({ cells: { what, count: String(n) }, json: () => null });
  add('resource types', s.resourceTypes);
  for (const [type, n] of Object.entries(s.resources)) add(`resources: ${type}`, n);
  add(
    'resources (total)',
    Object.values(s.resources).reduce((a, b) => a + b, 0),
  );
  add('entitlements', s.entitlements);
  for (const [type, n] of Object.entries(s.grantsByResourceType)) add(`grants on ${type}`, n);
  add('grants (total)', s.grants);
  return {
    name: 'counts',
    columns: [
      { key: 'what', header: 'What' },
      { key: 'count', header: 'Count' },
    ],
    head: {
      syncId: reader.sync?.syncId ?? null,
      startedAt: reader.sync?.startedAt ?? null,
      endedAt: reader.sync?.endedAt ?? null,
      finished: reader.finished,
      stats: s as unknown as JsonValue,
    },
    rows,
    headOnlyJson: true,
    dangling: noDangling(),
  };
}

export function danglingWarning(d: DanglingCounts): string | undefined {
  if (d.grants === 0) return undefined;
  const parts = (['principal', 'entitlement', 'resource'] as const)
    .filter((k) => d[k] > 0)
    .map((k) => `${d[k]} missing ${k}`);
  return (
    `${d.grants} grant(s) reference objects absent from the file (${parts.join(', ')}); ` +
    `they are shown flagged ${MISSING_MARK}. baton's own grants command fails on such files.`
  );
}

function* map<T>(items: Iterable<T>, fn: (item: T) => Row): Generator<Row> {
  for (const item of items) yield fn(item);
}
