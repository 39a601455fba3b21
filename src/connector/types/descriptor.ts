import { create, type DescMessage, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { ZodType } from 'zod';
import {
  EntitlementSchema,
  Entitlement_PurposeValue,
  ResourceSchema,
  ResourceTypeSchema,
  Resource_CreationSource,
  type Entitlement,
  type Resource,
  type ResourceType,
  type ResourceType_Trait,
} from '../../c1z/messages.js';
import { emptyAnnotation, packAnnotation } from '../../c1z/any.js';
import type { FieldSpec } from '../../coupa/fields.js';
import { entitlementId } from '../ids.js';
import { userResourceType } from '../user-type.js';

/**
 * What defines a membership type: the one place that says where its objects are listed, which
 * user field says who holds it, how it is written to a c1z and how it is granted and revoked.
 * Everything else (sync reads, the `fields` projection, the request floor, capabilities,
 * entitlement-id parsing, CLI summaries) is derived from the list in `list.ts`.
 */

/** A Coupa object users hold: a user group, role, content group or account group. */
export interface CoupaNamedObject {
  id: number;
  name?: string | null;
  description?: string | null;
  /** Roles only: Coupa's admin flag and its built-in marker. */
  omnipotent?: boolean | null;
  'system-role'?: boolean | null;
}

/** The user's association arrays (Coupa's output and PUT key), each a list of {id, name}. */
export type MembershipField =
  'roles' | 'user-groups' | 'content-groups' | 'account-groups' | 'approval-groups';

/**
 * A scope the sync may lack: the objects of a resource needing it are left out, with a warning,
 * when their list is refused (401/403), or at once when the caller says so.
 */
export interface OptionalScope {
  scope: string;
  /** The CLI flag that leaves the resource out without asking (and silences the warning). */
  skipFlag: string;
}

export interface ListedResourceSpec {
  /** ResourceType.id, also the first part of every entitlement id. */
  id: string;
  /** ResourceType.display_name; baton-coupa's own types keep its lower-case spelling. */
  displayName: string;
  trait: ResourceType_Trait;
  traitSchema: DescMessage;
  /** How one object is called in descriptions: `"<name> <noun> in Coupa"`. */
  noun: string;
  /** How several are called in summaries: `user groups`. */
  plural: string;
  /** The index endpoint the sync reads every object from, with the fields it asks for. */
  list: { path: string; schema: ZodType<CoupaNamedObject>; fields: FieldSpec };
  optionalScope?: OptionalScope;
  /**
   * The trait's profile, for types whose trait carries one (RoleTrait.profile: `omnipotent`).
   * Undefined (or an empty object) writes the empty trait baton-coupa writes.
   */
  traitProfile?: (obj: CoupaNamedObject) => JsonObject | undefined;
}

/** A resource type whose objects come from a list endpoint. */
export class ListedResource {
  readonly resourceType: ResourceType;

  constructor(readonly spec: ListedResourceSpec) {
    this.resourceType = create(ResourceTypeSchema, {
      id: spec.id,
      displayName: spec.displayName,
      traits: [spec.trait],
    });
  }

  get id(): string {
    return this.spec.id;
  }

  /** Display name of an object; Coupa requires names, but a nameless id must still display. */
  displayName(obj: CoupaNamedObject): string {
    const name = obj.name?.trim();
    return name ? name : `${this.spec.noun} ${obj.id}`;
  }

  private traitAnnotation(obj: CoupaNamedObject): Any {
    const profile = this.spec.traitProfile?.(obj);
    if (!profile || Object.keys(profile).length === 0) return emptyAnnotation(this.spec.traitSchema);
    return packAnnotation(this.spec.traitSchema, { profile } as MessageInitShape<DescMessage>);
  }

  toResource(obj: CoupaNamedObject): Resource {
    const name = this.displayName(obj);
    const own = obj.description?.trim();
    return create(ResourceSchema, {
      id: { resourceType: this.spec.id, resource: String(obj.id) },
      displayName: name,
      description: own ? own : `${name} ${this.spec.noun} in Coupa`,
      annotations: [this.traitAnnotation(obj)],
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    });
  }
}

/** The entitlement a membership type writes on each of its resources. */
export interface EntitlementSpec {
  slug: string;
  /** Appended to the resource's name: `"Finance Group"`. */
  displaySuffix: string;
  /** The description from the resource's name: `"Finance group in Coupa"`. */
  describe(resourceName: string): string;
}

/** Builds the baton entitlement of `spec` on `resource`, grantable to users, as baton-coupa does. */
export function buildEntitlement(spec: EntitlementSpec, resource: Resource): Entitlement {
  const rt = resource.id?.resourceType ?? '';
  const id = resource.id?.resource ?? '';
  return create(EntitlementSchema, {
    resource,
    id: entitlementId(rt, id, spec.slug),
    displayName: `${resource.displayName} ${spec.displaySuffix}`,
    // Always the generated text, even when the object has its own description, as baton-coupa does.
    description: spec.describe(resource.displayName),
    grantableTo: [userResourceType],
    purpose: Entitlement_PurposeValue.ASSIGNMENT,
    slug: spec.slug,
  });
}

/**
 * A membership held through one of the user's association arrays: synced from that array and
 * granted or revoked by writing it (read fresh, PUT the whole list; removals journaled where the
 * tenant merges arrays).
 */
export interface ArrayMembership<N extends string = string> {
  carrier: 'user-array';
  /** The membership type's name: the first word of grant/revoke messages and of the journal. */
  name: N;
  resource: ListedResource;
  entitlement: EntitlementSpec;
  /** The user's array that holds it. */
  userField: MembershipField;
  /** Singular for provisioning messages: `Coupa has no <noun> 12`. */
  noun: string;
  /** What several held ones are called in summaries: `user groups`. */
  plural: string;
  /**
   * Which listed objects carry this entitlement (default all); any object a user's array names
   * carries it anyway. `listFields` are what the predicate reads, added to the resource's list;
   * `unmet` says, after the object's URL, why one that fails the test has no such entitlement.
   */
  appliesTo?: { test(obj: Record<string, unknown>): boolean; listFields: FieldSpec; unmet: string };
}

/**
 * A membership held as a boolean flag on the user (licenses): synced from the flags present on
 * the tenant's users, granted or revoked by a PUT of one flag.
 */
export interface FlagMembership<N extends string = string> {
  carrier: 'user-flag';
  name: N;
  resourceType: ResourceType;
  plural: string;
  entitlement: EntitlementSpec;
  /** Every flag the sync asks for, as the user's output keys. */
  flags: readonly string[];
  /** The resource a flag stands for (its id need not be the flag: `treasury_user`). */
  resourceFor(flag: string): Resource;
  /** The flag a resource id stands for (resourceFor read backwards), if it is one of `flags`. */
  flagFor(resourceId: string): string | undefined;
  noun: string;
}

export type MembershipTypeDescriptor = ArrayMembership | FlagMembership;

/** The entitlement `membership` writes on `resource` (e.g. `group:10:member` on group 10). */
export function entitlementFor(
  membership: { entitlement: EntitlementSpec },
  resource: Resource,
): Entitlement {
  return buildEntitlement(membership.entitlement, resource);
}
