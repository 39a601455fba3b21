import type { Entitlement, Grant, Resource, ResourceType } from '../c1z/messages.js';
import { memberGrant, type CoupaNamedObject, type GroupLikeKind } from './group-like.js';
import { licenseEntitlement, licenseResource } from './license.js';
import type { ResourceTypeId } from './ids.js';

/** The part of the c1z writer the sync needs; C1zWriter satisfies it. */
export interface C1zSink {
  putResourceType(rt: ResourceType): void;
  putResource(r: Resource): void;
  putEntitlement(e: Entitlement): void;
  putGrant(g: Grant): void;
}

interface Target {
  entitlement: Entitlement;
}

/**
 * Everything users can be granted, written to the file the first time it is seen. Objects come
 * from the list endpoints first; one that a user references but the list did not return (created
 * while the sync ran) is written from the user's embedded {id, name}, so that no grant ever points
 * at a resource missing from the file. Only the small things live here (groups, roles, licenses),
 * never users.
 */
export class Catalog {
  private readonly targets = new Map<string, Target>();
  /** By the user's flag key, so the per-user check does not build a resource to find its id. */
  private readonly licenses = new Map<string, Target>();
  private readonly resourceCounts = new Map<string, number>();
  private readonly grantCounts = new Map<string, number>();
  private entitlementCount = 0;
  /** Objects written from a user's embedded reference rather than from their list endpoint. */
  readonly lateArrivals: Array<{ type: ResourceTypeId; id: string }> = [];

  constructor(private readonly sink: C1zSink) {}

  private key(type: string, id: string): string {
    return `${type}:${id}`;
  }

  private add(resource: Resource, entitlement: Entitlement): Target {
    this.sink.putResource(resource);
    this.sink.putEntitlement(entitlement);
    const type = resource.id!.resourceType;
    this.resourceCounts.set(type, (this.resourceCounts.get(type) ?? 0) + 1);
    this.entitlementCount++;
    const target = { entitlement };
    this.targets.set(this.key(type, resource.id!.resource), target);
    return target;
  }

  /** Adds an object from its list endpoint (a duplicate id across pages is written once). */
  addListed(kind: GroupLikeKind, obj: CoupaNamedObject): void {
    if (this.targets.has(this.key(kind.typeId, String(obj.id)))) return;
    const resource = kind.toResource(obj);
    this.add(resource, kind.memberEntitlement(resource));
  }

  /** Grants `userId` membership of `ref`, writing the object first if no list returned it. */
  grantMember(kind: GroupLikeKind, ref: CoupaNamedObject, userId: string): void {
    const id = String(ref.id);
    let target = this.targets.get(this.key(kind.typeId, id));
    if (!target) {
      const resource = kind.toResource(ref);
      target = this.add(resource, kind.memberEntitlement(resource));
      this.lateArrivals.push({ type: kind.typeId, id });
    }
    this.putGrant(kind.typeId, memberGrant(target.entitlement, userId));
  }

  /** Writes the license for a flag key the first time any user carries it. */
  ensureLicense(flag: string): Target {
    let target = this.licenses.get(flag);
    if (!target) {
      const resource = licenseResource(flag);
      target =
        this.targets.get(this.key(resource.id!.resourceType, resource.id!.resource)) ??
        this.add(resource, licenseEntitlement(resource));
      this.licenses.set(flag, target);
    }
    return target;
  }

  grantLicense(flag: string, userId: string): void {
    const target = this.ensureLicense(flag);
    this.putGrant(target.entitlement.resource!.id!.resourceType, memberGrant(target.entitlement, userId));
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
