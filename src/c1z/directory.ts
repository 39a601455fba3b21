/**
 * Who holds what, loaded once into memory for the review queries and the HTML report: every user
 * with the facts a reviewer needs, every entitlement with its resource, and the grants joining
 * them as two integer arrays. Grants are read from their columns, not decoded, so 700k of them
 * cost about a second and a few megabytes.
 */
import type { C1zReader, SyncRun } from './reader.js';
import { ResourceType_Trait } from './messages.js';
import { missingUser, roleOmnipotent, userFacts, type UserFacts } from './user-facts.js';

export interface EntitlementFacts {
  id: string;
  displayName: string;
  slug: string;
  resourceType: string;
  resourceId: string;
  resourceName: string;
  /** The resource's type carries TRAIT_ROLE. */
  isRole: boolean;
  /** Coupa's admin marker; undefined when the file does not record it. */
  omnipotent?: boolean;
  /** Referenced by grants but absent from the file. */
  missing?: boolean;
}

export interface ResourceTypeFacts {
  id: string;
  displayName: string;
  traits: ResourceType_Trait[];
}

export class AccessDirectory {
  readonly users: UserFacts[] = [];
  readonly entitlements: EntitlementFacts[] = [];
  readonly resourceTypes: ResourceTypeFacts[] = [];
  /** Resources that are neither users nor principals, by `type:id`: display names for the report. */
  readonly resourceNames = new Map<string, string>();
  /** Grants to principals that are not users (none in Coupa; possible in other files). */
  otherPrincipalGrants = 0;
  sync: SyncRun | null = null;
  /** User index and entitlement index of each grant, in grant order. */
  private grantUser = new Int32Array(0);
  private grantEntitlement = new Int32Array(0);
  private readonly userIndex = new Map<string, number>();
  private readonly entitlementIndex = new Map<string, number>();
  private byUserStart?: Int32Array;
  private byUserItems?: Int32Array;
  private byEntStart?: Int32Array;
  private byEntItems?: Int32Array;

  get grantCount(): number {
    return this.grantUser.length;
  }

  static load(reader: C1zReader): AccessDirectory {
    const dir = new AccessDirectory();
    dir.sync = reader.sync;
    const userTypes = new Set<string>();
    const roleTypes = new Set<string>();
    for (const rt of reader.resourceTypes()) {
      dir.resourceTypes.push({ id: rt.id, displayName: rt.displayName, traits: [...rt.traits] });
      if (rt.traits.includes(ResourceType_Trait.USER)) userTypes.add(rt.id);
      if (rt.traits.includes(ResourceType_Trait.ROLE)) roleTypes.add(rt.id);
    }
    if (userTypes.size === 0) userTypes.add('user');

    const omnipotent = new Map<string, boolean>();
    for (const r of reader.resources()) {
      const type = r.id?.resourceType ?? '';
      const id = r.id?.resource ?? '';
      if (userTypes.has(type)) {
        if (type !== 'user') continue; // other user-like types are not principals of Coupa grants
        dir.userIndex.set(id, dir.users.length);
        dir.users.push(userFacts(r));
      } else {
        dir.resourceNames.set(`${type}:${id}`, r.displayName);
        const o = roleOmnipotent(r);
        if (o !== undefined) omnipotent.set(`${type}:${id}`, o);
      }
    }

    for (const e of reader.entitlements()) {
      const type = e.resource?.id?.resourceType ?? '';
      const rid = e.resource?.id?.resource ?? '';
      const key = `${type}:${rid}`;
      dir.entitlementIndex.set(e.id, dir.entitlements.length);
      dir.entitlements.push({
        id: e.id,
        displayName: e.displayName,
        slug: e.slug,
        resourceType: type,
        resourceId: rid,
        resourceName: dir.resourceNames.get(key) ?? e.resource?.displayName ?? '',
        isRole: roleTypes.has(type),
        omnipotent: omnipotent.get(key),
      });
    }

    const users: number[] = [];
    const ents: number[] = [];
    for (const g of reader.grantEdges()) {
      if (g.principalType !== 'user') {
        dir.otherPrincipalGrants++;
        continue;
      }
      let u = dir.userIndex.get(g.principalId);
      if (u === undefined) {
        u = dir.users.length;
        dir.userIndex.set(g.principalId, u);
        dir.users.push(missingUser(g.principalId));
      }
      let e = dir.entitlementIndex.get(g.entitlementId);
      if (e === undefined) {
        e = dir.entitlements.length;
        dir.entitlementIndex.set(g.entitlementId, e);
        const key = `${g.resourceType}:${g.resourceId}`;
        dir.entitlements.push({
          id: g.entitlementId,
          displayName: '',
          slug: '',
          resourceType: g.resourceType,
          resourceId: g.resourceId,
          resourceName: dir.resourceNames.get(key) ?? '',
          isRole: roleTypes.has(g.resourceType),
          omnipotent: omnipotent.get(key),
          missing: true,
        });
      }
      users.push(u);
      ents.push(e);
    }
    dir.grantUser = Int32Array.from(users);
    dir.grantEntitlement = Int32Array.from(ents);
    return dir;
  }

  userById(id: string): UserFacts | undefined {
    const i = this.userIndex.get(id);
    return i === undefined ? undefined : this.users[i];
  }

  indexOfUser(id: string): number | undefined {
    return this.userIndex.get(id);
  }

  indexOfEntitlement(id: string): number | undefined {
    return this.entitlementIndex.get(id);
  }

  /** Entitlement indexes a user (by index) holds. */
  heldBy(user: number): Int32Array {
    this.index();
    return this.byUserItems!.subarray(this.byUserStart![user]!, this.byUserStart![user + 1]!);
  }

  /** User indexes holding an entitlement (by index). */
  holdersOf(entitlement: number): Int32Array {
    this.index();
    return this.byEntItems!.subarray(this.byEntStart![entitlement]!, this.byEntStart![entitlement + 1]!);
  }

  /** Both adjacency lists, built once on first use by counting sort (no per-user arrays). */
  private index(): void {
    if (this.byUserStart) return;
    const group = (keys: Int32Array, values: Int32Array, n: number) => {
      const start = new Int32Array(n + 1);
      for (const k of keys) start[k + 1]!++;
      for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
      const fill = start.slice(0, n);
      const items = new Int32Array(keys.length);
      for (let i = 0; i < keys.length; i++) items[fill[keys[i]!]!++] = values[i]!;
      return { start, items };
    };
    const u = group(this.grantUser, this.grantEntitlement, this.users.length);
    const e = group(this.grantEntitlement, this.grantUser, this.entitlements.length);
    this.byUserStart = u.start;
    this.byUserItems = u.items;
    this.byEntStart = e.start;
    this.byEntItems = e.items;
  }
}
