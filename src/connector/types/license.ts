import { create } from '@bufbuild/protobuf';
import {
  ResourceSchema,
  ResourceTypeSchema,
  Resource_CreationSource,
  type Entitlement,
  type Resource,
  type ResourceType,
} from '../../c1z/messages.js';
import { LICENSE_FLAGS } from '../../coupa/models.js';
import { ResourceTypeId } from '../ids.js';
import { buildEntitlement, type EntitlementSpec, type FlagMembership } from './descriptor.js';

/**
 * Licenses are boolean flags on a Coupa user (`purchasing-user: true`). baton-coupa models each
 * flag as a `license` resource with an `assigned` entitlement and no trait.
 */
export const licenseResourceType: ResourceType = create(ResourceTypeSchema, {
  id: ResourceTypeId.license,
  displayName: 'license',
});

interface LicenseName {
  /** The resource id; baton-coupa's, where it has one, so that files line up. */
  id: string;
  displayName: string;
}

/**
 * Keyed by the user's output key. The first 13 are baton-coupa's ids and names, including its
 * `treasury_user` spelling; the rest use the output key itself as id.
 */
const KNOWN_LICENSES: Readonly<Record<string, LicenseName>> = {
  'aic-user': { id: 'aic-user', displayName: 'AI classification' },
  'analytics-user': { id: 'analytics-user', displayName: 'Analytics' },
  'ccw-user': { id: 'ccw-user', displayName: 'Contingent Workforce' },
  'contracts-user': { id: 'contracts-user', displayName: 'Contracts' },
  'expense-user': { id: 'expense-user', displayName: 'Expense' },
  'inventory-user': { id: 'inventory-user', displayName: 'Inventory' },
  'purchasing-user': { id: 'purchasing-user', displayName: 'Purchasing' },
  'risk-assess-user': { id: 'risk-assess-user', displayName: 'Risk Assess' },
  'sourcing-user': { id: 'sourcing-user', displayName: 'Sourcing' },
  'spend-guard-user': { id: 'spend-guard-user', displayName: 'Spend Guard' },
  'supply-chain-user': { id: 'supply-chain-user', displayName: 'Supply Chain' },
  'travel-user': { id: 'travel-user', displayName: 'Travel' },
  'treasury-user': { id: 'treasury_user', displayName: 'Treasury' },
  'clm-advanced-user': { id: 'clm-advanced-user', displayName: 'Contract Lifecycle Management Advanced' },
  'invoicing-user': { id: 'invoicing-user', displayName: 'Invoicing' },
  'category-planner-user': { id: 'category-planner-user', displayName: 'Category Planner' },
  'category-strategy-user': { id: 'category-strategy-user', displayName: 'Category Strategy' },
  'intake-user': { id: 'intake-user', displayName: 'Intake' },
  'coupa-navi-ai-agent-user': { id: 'coupa-navi-ai-agent-user', displayName: 'Navi AI Agent' },
};

/** Accepts output keys with `-` or `_` (Coupa's input spelling); answers the canonical output key. */
function canonicalFlag(flag: string): string {
  return flag.replace(/_/g, '-');
}

function nameOf(flag: string): LicenseName {
  const key = canonicalFlag(flag);
  const known = KNOWN_LICENSES[key];
  if (known) return known;
  const words = key
    .replace(/-user$/, '')
    .split('-')
    .filter(Boolean);
  return { id: key, displayName: words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ') || key };
}

/** License resource id for a user's flag key: `treasury-user` → `treasury_user`, others unchanged. */
export function licenseIdForFlag(flag: string): string {
  return nameOf(flag).id;
}

/** The user's output key for a license resource id (the inverse of licenseIdForFlag). */
export function flagForLicenseId(licenseId: string): string {
  return canonicalFlag(licenseId);
}

export function licenseResource(flag: string): Resource {
  const { id, displayName } = nameOf(flag);
  return create(ResourceSchema, {
    id: { resourceType: ResourceTypeId.license, resource: id },
    displayName,
    description: `${displayName} license in Coupa`,
    creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
  });
}

const assigned: EntitlementSpec = {
  slug: 'assigned',
  displaySuffix: 'License',
  describe: (name) => `${name} license in Coupa`,
};

export function licenseEntitlement(resource: Resource): Entitlement {
  return buildEntitlement(assigned, resource);
}

/** A license a user holds (`<flag>: true` on the user): `license:<license id>:assigned`. */
export const licenseMembership: FlagMembership<'license'> = {
  carrier: 'user-flag',
  name: 'license',
  resourceType: licenseResourceType,
  plural: 'licenses',
  entitlement: assigned,
  flags: LICENSE_FLAGS,
  resourceFor: licenseResource,
  flagFor: (licenseId) => {
    const flag = flagForLicenseId(licenseId);
    return (LICENSE_FLAGS as readonly string[]).includes(flag) ? flag : undefined;
  },
  noun: 'license',
};
