import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { connectorCapabilities } from '../connector/capabilities.js';
import {
  CapabilitySchema,
  ConnectorCapabilitiesSchema,
  ConnectorMetadataSchema,
  type ConnectorMetadata,
} from './messages.js';

export const CONNECTOR_DISPLAY_NAME = 'Coupa Connector';
export const CONNECTOR_DESCRIPTION = 'Connector syncing Coupa users, groups, roles, and licenses';

/**
 * Capability names newer than our copy of baton's enum, with their baton-sdk numbers; protojson
 * takes an enum's number where it does not know the name, so the value still reaches ConductorOne.
 */
const NEWER_CAPABILITIES: Record<string, number> = { CAPABILITY_ACTIONS: 10 };

function capabilityValue(name: string): string | number {
  if (CapabilitySchema.values.some((v) => v.name === name)) return name;
  const n = NEWER_CAPABILITIES[name];
  if (n === undefined) throw new Error(`capability ${name} has no number in baton's Capability enum`);
  return n;
}

/**
 * What Hello reports: the same capabilities `coupa-connector capabilities` prints (one source,
 * src/connector/capabilities.ts), as the c1.connector.v2 message instead of its JSON rendering.
 */
export function connectorMetadata(): ConnectorMetadata {
  const { '@type': _type, ...json } = connectorCapabilities();
  const withNumbers = {
    ...json,
    connectorCapabilities: json.connectorCapabilities.map(capabilityValue),
    resourceTypeCapabilities: json.resourceTypeCapabilities.map((r) => ({
      ...r,
      capabilities: r.capabilities.map(capabilityValue),
    })),
  };
  return create(ConnectorMetadataSchema, {
    displayName: CONNECTOR_DISPLAY_NAME,
    description: CONNECTOR_DESCRIPTION,
    capabilities: fromJson(ConnectorCapabilitiesSchema, withNumbers as unknown as JsonValue),
  });
}
