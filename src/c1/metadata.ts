import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { connectorCapabilities } from '../connector/capabilities.js';
import { ConnectorCapabilitiesSchema, ConnectorMetadataSchema, type ConnectorMetadata } from './messages.js';

export const CONNECTOR_DISPLAY_NAME = 'Coupa Connector';
export const CONNECTOR_DESCRIPTION = 'Connector syncing Coupa users, groups, roles, and licenses';

/**
 * Capabilities the CLI has that the task loop cannot serve. Enabling and disabling users are
 * baton actions (`--invoke-action`), but service mode has no handler for `action_*` tasks:
 * advertising them would make ConductorOne send tasks that can only fail. baton-coupa (SDK
 * v0.2.58, whose Capability enum stops at RESOURCE_DELETE) never advertises actions either.
 */
const NOT_IN_SERVICE_MODE: ReadonlySet<string> = new Set(['CAPABILITY_ACTIONS']);

/**
 * What Hello reports: what `coupa-connector capabilities` prints (one source,
 * src/connector/capabilities.ts) less what service mode cannot run, as the c1.connector.v2
 * message instead of its JSON rendering.
 */
export function connectorMetadata(): ConnectorMetadata {
  const { '@type': _type, ...json } = connectorCapabilities();
  const served = (names: string[]) => names.filter((n) => !NOT_IN_SERVICE_MODE.has(n));
  const capabilities = {
    ...json,
    connectorCapabilities: served(json.connectorCapabilities),
    resourceTypeCapabilities: json.resourceTypeCapabilities.map((r) => ({
      ...r,
      capabilities: served(r.capabilities),
    })),
  };
  return create(ConnectorMetadataSchema, {
    displayName: CONNECTOR_DISPLAY_NAME,
    description: CONNECTOR_DESCRIPTION,
    capabilities: fromJson(ConnectorCapabilitiesSchema, capabilities as unknown as JsonValue),
  });
}
