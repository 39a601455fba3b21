import type { ResourceType } from '../c1z/messages.js';
import { ResourceType_Trait } from '../c1z/messages.js';
import { GRANTABLE_RESOURCE_TYPES } from './types/index.js';
import { userResourceType } from './user-type.js';

/**
 * What `capabilities` prints, in the shape baton connectors print it: a
 * `c1.connector.v2.ConnectorCapabilities` wrapped in an Any and rendered as protojson
 * (camelCase keys, enum names, empty fields left out). Written out by hand because the
 * capability messages are not part of the c1z format and so not in our generated code.
 */
export interface CapabilitiesJson {
  '@type': string;
  resourceTypeCapabilities: Array<{
    resourceType: { id: string; displayName: string; traits?: string[] };
    capabilities: string[];
  }>;
  connectorCapabilities: string[];
  credentialDetails: {
    capabilityAccountProvisioning: {
      supportedCredentialOptions: string[];
      preferredCredentialOption: string;
    };
  };
}

function resourceTypeJson(rt: ResourceType): { id: string; displayName: string; traits?: string[] } {
  const traits = rt.traits.map((t) => `TRAIT_${ResourceType_Trait[t]}`);
  return traits.length > 0
    ? { id: rt.id, displayName: rt.displayName, traits }
    : { id: rt.id, displayName: rt.displayName };
}

export function connectorCapabilities(): CapabilitiesJson {
  return {
    '@type': 'type.googleapis.com/c1.connector.v2.ConnectorCapabilities',
    resourceTypeCapabilities: [
      // Users are principals, not grantable; they can be created (account provisioning).
      {
        resourceType: resourceTypeJson(userResourceType),
        capabilities: ['CAPABILITY_SYNC', 'CAPABILITY_ACCOUNT_PROVISIONING'],
      },
      ...GRANTABLE_RESOURCE_TYPES.map((rt) => ({
        resourceType: resourceTypeJson(rt),
        capabilities: ['CAPABILITY_SYNC', 'CAPABILITY_PROVISION'],
      })),
    ],
    connectorCapabilities: [
      'CAPABILITY_PROVISION',
      'CAPABILITY_SYNC',
      'CAPABILITY_ACCOUNT_PROVISIONING',
      'CAPABILITY_ACTIONS',
    ],
    credentialDetails: {
      capabilityAccountProvisioning: {
        supportedCredentialOptions: ['CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD'],
        preferredCredentialOption: 'CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD',
      },
    },
  };
}
