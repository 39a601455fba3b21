import type { Entitlement, Grant, Resource, ResourceType } from '../c1z/messages.js';
import { memberGrant } from './grants.js';
import {
  buildEntitlement,
  membershipsOf,
  type ArrayMembership,
  type EntitlementSpec,
  type FlagMembership,
  type CoupaNamedObject,
  type ListedResource,
} from './types/index.js';

/** The part of the c1z writer the sync writes through; C1zWriter satisfies it, and so can a test's array. */
export interface C1zSink {
  putResourceType(rt: ResourceType): void;
  putResource(r: Resource): void;
  putEntitlement(e: Entitlement): void;
  putGrant(g: Grant): void;
}

interface Target {
  resource: Resource;
  /** By slug; written the first time a listed object qualifies or a user holds it. */
  entitlements: Map<string, Entitlement>;
}

/** Grants of an object users reference but its list has not returned yet. */
interface Pending {
  resource: ListedResource;
  ref: CoupaNamedObject;
  grants: Array<{ membership: ArrayMembership; userId: string }>;
}

/**
 * Everything users can be granted, written to the file the first time it is seen. Objects come
 * from their list endpoints, which are read while the users are: the grants of an object a user
 * holds before its list has returned it wait (as a user id each) until it does, so that every grant
 * embeds the list's record whatever the timing. One its list never returns (created while the sync
 * ran) is written at the end from the user's embedded {id, name}, so that no grant ever points at
 * a resource missing from the file. Only the small things live here (groups, roles, licenses),
 * never users.
 */
export class Catalog {
  private readonly targets = new Map<string, Target>();
  /** By membership type and the user's flag key, so the per-user check builds no resource. */
  private readonly flags = new Map<FlagMembership, Map<string, Entitlement>>();
  private readonly resourceCounts = new Map<string, number>();
  private readonly grantCounts = new Map<string, number>();
  private entitlementCount = 0;
  /** Objects written from a user's embedded reference rather than from their list endpoint. */
  readonly lateArrivals: Array<{ type: string; id: string }> = [];
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly sink: C1zSink) {}

  private key(type: string, id: string): string {
    return `${type}:${id}`;
  }

  private addResource(resource: Resource): Target {
    this.sink.putResource(resource);
    const type = resource.id!.resourceType;
    this.resourceCounts.set(type, (this.resourceCounts.get(type) ?? 0) + 1);
    const target: Target = { resource, entitlements: new Map() };
    this.targets.set(this.key(type, resource.id!.resource), target);
    return target;
  }

  private entitlementOf(target: Target, membership: { entitlement: EntitlementSpec }): Entitlement {
    const { slug } = membership.entitlement;
    let ent = target.entitlements.get(slug);
    if (!ent) {
      ent = buildEntitlement(membership.entitlement, target.resource);
      this.sink.putEntitlement(ent);
      this.entitlementCount++;
      target.entitlements.set(slug, ent);
    }
    return ent;
  }

  /**
   * Adds an object from its list endpoint with the entitlements every membership type of its
   * resource gives it (a duplicate id across pages is written once).
   */
  addListed(resource: ListedResource, obj: CoupaNamedObject): void {
    const key = this.key(resource.id, String(obj.id));
    if (this.targets.has(key)) return;
    const target = this.addResource(resource.toResource(obj));
    for (const m of membershipsOf(resource)) {
      if (!m.appliesTo || m.appliesTo.test(obj as unknown as Record<string, unknown>))
        this.entitlementOf(target, m);
    }
    this.release(key, target);
  }

  /** Grants `userId` the membership of `ref`; held back while its list has not returned it. */
  grantMember(membership: ArrayMembership, ref: CoupaNamedObject, userId: string): void {
    const { resource } = membership;
    const key = this.key(resource.id, String(ref.id));
    const target = this.targets.get(key);
    if (target) return this.grant(target, membership, userId);
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { resource, ref, grants: [] }));
    p.grants.push({ membership, userId });
  }

  /**
   * Once every list is read: writes the objects users hold that no list returned (created while
   * the sync ran) from the users' references, with their grants.
   */
  finishReferences(): void {
    for (const [key, p] of this.pending) {
      const target = this.addResource(p.resource.toResource(p.ref));
      this.lateArrivals.push({ type: p.resource.id, id: String(p.ref.id) });
      this.release(key, target);
    }
  }

  private release(key: string, target: Target): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    for (const { membership, userId } of p.grants) this.grant(target, membership, userId);
  }

  private grant(target: Target, membership: ArrayMembership, userId: string): void {
    this.putGrant(membership.resource.id, memberGrant(this.entitlementOf(target, membership), userId));
  }

  /** Writes the resource of a flag the first time any user carries it (true or false). */
  ensureFlag(membership: FlagMembership, flag: string): Entitlement {
    let byFlag = this.flags.get(membership);
    if (!byFlag) this.flags.set(membership, (byFlag = new Map()));
    let ent = byFlag.get(flag);
    if (!ent) {
      const resource = membership.resourceFor(flag);
      const target =
        this.targets.get(this.key(resource.id!.resourceType, resource.id!.resource)) ??
        this.addResource(resource);
      ent = this.entitlementOf(target, membership);
      byFlag.set(flag, ent);
    }
    return ent;
  }

  grantFlag(membership: FlagMembership, flag: string, userId: string): void {
    const ent = this.ensureFlag(membership, flag);
    this.putGrant(ent.resource!.id!.resourceType, memberGrant(ent, userId));
  }

  private putGrant(type: string, grant: Grant): void {
    this.sink.putGrant(grant);
    this.grantCounts.set(type, (this.grantCounts.get(type) ?? 0) + 1);
  }

  resourcesByType(): Record<string, number> {
    return Object.fromEntries(this.resourceCounts);
  }

  grantsByType(): Record<string, number> {
    return Object.fromEntries(this.grantCounts);
  }

  get entitlements(): number {
    return this.entitlementCount;
  }
}
