import { create } from '@bufbuild/protobuf';
import { EntitlementSchema, GrantSchema, type Entitlement, type Grant } from '../c1z/messages.js';
import { grantId, ResourceTypeId } from './ids.js';

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
