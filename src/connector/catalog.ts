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
  /** Written from a user's embedded reference, and its list has not (yet) returned it. */
  fromReference: boolean;
  /** By slug; written the first time a listed object qualifies or a user holds it. */
  entitlements: Map<string, Entitlement>;
}

/**
 * Everything users can be granted, written to the file the first time it is seen. Objects come
 * from their list endpoints, read while the users are: one that a user references before its list
 * returns it is written from the user's embedded {id, name} and rewritten (the store upserts) with
 * the list's fuller record when that arrives. One its list never returns (created while the sync
 * ran) keeps the reference's, so that no grant ever points at a resource missing from the file.
 * Only the small things live here (groups, roles, licenses), never users.
 */
export class Catalog {
  private readonly targets = new Map<string, Target>();
  /** By membership type and the user's flag key, so the per-user check builds no resource. */
  private readonly flags = new Map<FlagMembership, Map<string, Entitlement>>();
  private readonly resourceCounts = new Map<string, number>();
  private readonly grantCounts = new Map<string, number>();
  private entitlementCount = 0;

  /** Objects written from a user's embedded reference that their list endpoint did not return. */
  get lateArrivals(): Array<{ type: string; id: string }> {
    const out: Array<{ type: string; id: string }> = [];
    for (const t of this.targets.values())
      if (t.fromReference) out.push({ type: t.resource.id!.resourceType, id: t.resource.id!.resource });
    return out;
  }

  constructor(private readonly sink: C1zSink) {}

  private key(type: string, id: string): string {
    return `${type}:${id}`;
  }

  private addResource(resource: Resource, fromReference = false): Target {
    this.sink.putResource(resource);
    const type = resource.id!.resourceType;
    this.resourceCounts.set(type, (this.resourceCounts.get(type) ?? 0) + 1);
    const target: Target = { resource, fromReference, entitlements: new Map() };
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
    let target = this.targets.get(this.key(resource.id, String(obj.id)));
    if (target && !target.fromReference) return;
    if (target) {
      // A user's reference came first: the list's record replaces it, and its entitlements (same
      // ids, so the store upserts). Grants already written keep the stub they were written with.
      target.resource = resource.toResource(obj);
      target.fromReference = false;
      this.sink.putResource(target.resource);
      for (const m of membershipsOf(resource)) {
        const ent = target.entitlements.get(m.entitlement.slug);
        if (!ent) continue;
        const fresh = buildEntitlement(m.entitlement, target.resource);
        target.entitlements.set(m.entitlement.slug, fresh);
        this.sink.putEntitlement(fresh);
      }
    } else target = this.addResource(resource.toResource(obj));
    for (const m of membershipsOf(resource)) {
      if (!m.appliesTo || m.appliesTo.test(obj as unknown as Record<string, unknown>))
        this.entitlementOf(target, m);
    }
  }

  /** Grants `userId` the membership of `ref`, writing the object first if no list returned it. */
  grantMember(membership: ArrayMembership, ref: CoupaNamedObject, userId: string): void {
    const { resource } = membership;
    const id = String(ref.id);
    let target = this.targets.get(this.key(resource.id, id));
    target ??= this.addResource(resource.toResource(ref), true);
    this.putGrant(resource.id, memberGrant(this.entitlementOf(target, membership), userId));
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
