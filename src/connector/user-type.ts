import { create } from '@bufbuild/protobuf';
import { ResourceTypeSchema, ResourceType_Trait, type ResourceType } from '../c1z/messages.js';
import { ResourceTypeId } from './ids.js';

/**
 * The user resource type, byte-for-byte what baton-coupa stores (display name `User`, TRAIT_USER,
 * nothing else). It lives apart from the user mapping because every entitlement names it in
 * `grantable_to`.
 */
export const userResourceType: ResourceType = create(ResourceTypeSchema, {
  id: ResourceTypeId.user,
  displayName: 'User',
  traits: [ResourceType_Trait.USER],
});
