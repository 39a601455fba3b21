import { create, type DescMessage } from '@bufbuild/protobuf';
import {
  EntitlementSchema,
  Entitlement_PurposeValue,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
  Resource_CreationSource,
  type Entitlement,
  type Grant,
  type Resource,
  type ResourceType,
  type ResourceType_Trait,
} from '../c1z/messages.js';
import { emptyAnnotation } from '../c1z/any.js';
import { entitlementId, grantId, ResourceTypeId, Slug } from './ids.js';
import { userResourceType } from './user-type.js';

/** A Coupa object that users are members of: a user group, role, content group or account group. */
export interface CoupaNamedObject {
  id: number;
  name?: string | null;
  description?: string | null;
}

export interface GroupLikeDefinition {
  typeId: ResourceTypeId;
  /** ResourceType.display_name; baton-coupa's own types keep its lower-case spelling. */
  typeDisplayName: string;
  trait: ResourceType_Trait;
  traitSchema: DescMessage;
  /** How the object is called in descriptions: `"<name> <noun> in Coupa"`. */
  noun: string;
  /** Appended to the name for the entitlement's display name: `"<name> <suffix>"`. */
  entitlementSuffix: string;
}

/**
 * User groups, roles, content groups and account groups share one shape in baton-coupa: a
 * resource with an empty trait, one `member` entitlement grantable to users, and grants read off
 * each user's embedded membership list. This is that shape, parameterised by the names.
 */
export class GroupLikeKind {
  readonly resourceType: ResourceType;

  constructor(readonly def: GroupLikeDefinition) {
    this.resourceType = create(ResourceTypeSchema, {
      id: def.typeId,
      displayName: def.typeDisplayName,
      traits: [def.trait],
    });
  }

  get typeId(): ResourceTypeId {
    return this.def.typeId;
  }

  /** Display name of an object; Coupa requires names, but a nameless id must still display. */
  displayName(obj: CoupaNamedObject): string {
    const name = obj.name?.trim();
    return name ? name : `${this.def.noun} ${obj.id}`;
  }

  toResource(obj: CoupaNamedObject): Resource {
    const name = this.displayName(obj);
    const own = obj.description?.trim();
    return create(ResourceSchema, {
      id: { resourceType: this.def.typeId, resource: String(obj.id) },
      displayName: name,
      description: own ? own : `${name} ${this.def.noun} in Coupa`,
      annotations: [emptyAnnotation(this.def.traitSchema)],
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    });
  }

  memberEntitlement(resource: Resource): Entitlement {
    const id = resource.id?.resource ?? '';
    return create(EntitlementSchema, {
      resource,
      id: entitlementId(this.def.typeId, id, Slug.member),
      displayName: `${resource.displayName} ${this.def.entitlementSuffix}`,
      // Always the generated text, even when the object has its own description, as baton-coupa does.
      description: `${resource.displayName} ${this.def.noun} in Coupa`,
      grantableTo: [userResourceType],
      purpose: Entitlement_PurposeValue.ASSIGNMENT,
      slug: Slug.member,
    });
  }
}

/**
 * Grants embed a stub of their entitlement ({id, resource}). Every grant of one entitlement shares
 * the same stub object: the c1z writer encodes an entitlement once per object it sees, so a fresh
 * stub per grant would re-serialise the whole resource for every one of a tenant's grants.
 */
const stubs = new WeakMap<Entitlement, Entitlement>();

function entitlementStub(entitlement: Entitlement): Entitlement {
  let stub = stubs.get(entitlement);
  if (!stub) {
    stub = create(EntitlementSchema, { id: entitlement.id, resource: entitlement.resource });
    stubs.set(entitlement, stub);
  }
  return stub;
}

/** A grant as baton-sdk stores it: entitlement stub {id, resource}, principal stub {id}. */
export function memberGrant(entitlement: Entitlement, userId: string): Grant {
  return create(GrantSchema, {
    entitlement: entitlementStub(entitlement),
    principal: { id: { resourceType: ResourceTypeId.user, resource: userId } },
    id: grantId(entitlement.id, userId),
  });
}
