/**
 * The service-mode protos must match ConductorOne's wire contract field for field. The expected
 * numbers below are written from the protocol facts (c1-service-mode §4), independently of our
 * .proto files, and are checked twice: in the descriptors and in the bytes a populated message
 * encodes to (so a renumbered field, a field moved into or out of a oneof, or a wrong type fails).
 */
import { describe, expect, it } from 'vitest';
import {
  create,
  equals,
  fromBinary,
  toBinary,
  type DescField,
  type DescMessage,
  type Message,
} from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { anyPack, anyUnpack, durationFromMs, type Any } from '@bufbuild/protobuf/wkt';
import * as baton from '../../src/c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import * as account from '../../src/c1z/gen/c1/connector/v2/account_pb.js';
import * as connector from '../../src/c1z/gen/c1/connector/v2/connector_pb.js';
import * as grantManager from '../../src/c1z/gen/c1/connector/v2/grant_manager_pb.js';
import * as ticket from '../../src/c1z/gen/c1/connector/v2/ticket_pb.js';
import * as rpc from '../../src/c1z/gen/google/rpc/status_pb.js';
import { EntitlementSchema, ResourceSchema } from '../../src/c1z/messages.js';

/** field name -> number, per message full name; written from the facts sheet, not from our protos. */
const EXPECTED: Record<string, Record<string, number>> = {
  'c1.connectorapi.baton.v1.Task': {
    id: 1,
    status: 2,
    debug: 3,
    none: 100,
    hello: 101,
    sync_full: 102,
    grant: 103,
    revoke: 104,
    create_account: 105,
    create_resource: 106,
    delete_resource: 107,
    rotate_credentials: 108,
    event_feed: 109,
    create_ticket_task: 110,
    list_ticket_schemas: 111,
    get_ticket: 112,
    bulk_create_tickets: 113,
    bulk_get_tickets: 114,
    action_list_schemas: 115,
    action_get_schema: 116,
    action_invoke: 117,
    action_status: 118,
    create_sync_diff: 119,
    compact_syncs: 120,
    list_event_feeds: 121,
    list_events: 122,
    issue_credential: 123,
  },
  'c1.connectorapi.baton.v1.Task.SyncFullTask': {
    annotations: 1,
    skip_expand_grants: 2,
    skip_entitlements_and_grants: 3,
    targeted_sync_resources: 4,
    sync_resource_type_ids: 5,
    skip_grants: 6,
    storage_engine: 7,
  },
  'c1.connectorapi.baton.v1.Task.GrantTask': {
    entitlement: 1,
    principal: 2,
    annotations: 3,
    duration: 4,
  },
  'c1.connectorapi.baton.v1.Task.RevokeTask': { grant: 1, annotations: 2 },
  'c1.connectorapi.baton.v1.Task.CreateAccountTask': {
    account_info: 1,
    credential_options: 2,
    encryption_configs: 3,
    resource_type_id: 4,
  },
  'c1.connectorapi.baton.v1.Task.DeleteResourceTask': { resource_id: 1, parent_resource_id: 2 },
  'c1.connectorapi.baton.v1.Task.GetTicketTask': { ticket_id: 1, annotations: 2 },
  'c1.connectorapi.baton.v1.Task.EventFeedTask': { annotations: 1, start_at: 2 },
  'c1.connectorapi.baton.v1.BatonServiceHelloRequest': {
    host_id: 1,
    task_id: 2,
    build_info: 3,
    os_info: 4,
    connector_metadata: 5,
    annotations: 6,
  },
  'c1.connectorapi.baton.v1.BatonServiceHelloRequest.BuildInfo': {
    lang_version: 1,
    package: 2,
    package_version: 3,
  },
  'c1.connectorapi.baton.v1.BatonServiceHelloRequest.OSInfo': {
    hostname: 1,
    os: 2,
    platform: 3,
    platform_version: 4,
    platform_family: 5,
    kernel_version: 6,
    kernel_arch: 7,
    virtualization_system: 8,
  },
  'c1.connectorapi.baton.v1.BatonServiceHelloResponse': { annotations: 1 },
  'c1.connectorapi.baton.v1.BatonServiceGetTaskRequest': { host_id: 1 },
  'c1.connectorapi.baton.v1.BatonServiceGetTaskResponse': {
    task: 1,
    next_poll: 2,
    next_heartbeat: 3,
    annotations: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceGetTasksRequest': {
    host_id: 1,
    page_size: 2,
    known_task_ids: 3,
    annotations: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceGetTasksResponse': {
    tasks: 1,
    next_poll: 2,
    next_heartbeat: 3,
    annotations: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceHeartbeatRequest': {
    host_id: 1,
    task_id: 2,
    annotations: 3,
    task_ids: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceHeartbeatResponse': {
    next_heartbeat: 1,
    cancelled: 2,
    annotations: 3,
    cancelled_task_ids: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceUploadAssetRequest': { metadata: 100, data: 101, eof: 102 },
  'c1.connectorapi.baton.v1.BatonServiceUploadAssetRequest.UploadMetadata': {
    host_id: 1,
    task_id: 2,
    annotations: 4,
  },
  'c1.connectorapi.baton.v1.BatonServiceUploadAssetRequest.UploadData': { data: 1 },
  'c1.connectorapi.baton.v1.BatonServiceUploadAssetRequest.UploadEOF': {
    sha256_checksum: 1,
    annotations: 2,
  },
  'c1.connectorapi.baton.v1.BatonServiceUploadAssetResponse': { annotations: 1 },
  'c1.connectorapi.baton.v1.BatonServiceFinishTaskRequest': {
    host_id: 1,
    task_id: 2,
    status: 3,
    error: 100,
    success: 101,
  },
  'c1.connectorapi.baton.v1.BatonServiceFinishTaskRequest.Error': {
    non_retryable: 1,
    annotations: 2,
    response: 3,
  },
  'c1.connectorapi.baton.v1.BatonServiceFinishTaskRequest.Success': { annotations: 1, response: 2 },
  'c1.connectorapi.baton.v1.BatonServiceFinishTaskResponse': { annotations: 1 },
  'c1.connectorapi.baton.v1.StartDebuggingResponse': { status: 1 },
  'google.rpc.Status': { code: 1, message: 2, details: 3 },
  'c1.connector.v2.ConnectorMetadata': {
    display_name: 1,
    help_url: 2,
    icon: 3,
    logo: 4,
    profile: 5,
    annotations: 6,
    description: 7,
    capabilities: 8,
  },
  'c1.connector.v2.ConnectorCapabilities': {
    resource_type_capabilities: 1,
    connector_capabilities: 2,
    credential_details: 3,
  },
  'c1.connector.v2.ResourceTypeCapability': { resource_type: 1, capabilities: 2 },
  'c1.connector.v2.GrantManagerServiceGrantRequest': { entitlement: 1, principal: 2, annotations: 3 },
  'c1.connector.v2.GrantManagerServiceGrantResponse': { annotations: 1, grants: 2 },
  'c1.connector.v2.GrantManagerServiceRevokeRequest': { grant: 1, annotations: 2 },
  'c1.connector.v2.GrantManagerServiceRevokeResponse': { annotations: 1 },
  'c1.connector.v2.AccountInfo': { emails: 1, login: 2, login_aliases: 3, profile: 4 },
  'c1.connector.v2.CreateAccountResponse': {
    success: 100,
    action_required: 101,
    already_exists: 102,
    in_progress: 103,
    encrypted_data: 2,
    annotations: 3,
  },
};

const CAPABILITY_VALUES: Record<string, number> = {
  CAPABILITY_UNSPECIFIED: 0,
  CAPABILITY_PROVISION: 1,
  CAPABILITY_SYNC: 2,
  CAPABILITY_EVENT_FEED: 3,
  CAPABILITY_TICKETING: 4,
  CAPABILITY_ACCOUNT_PROVISIONING: 5,
  CAPABILITY_CREDENTIAL_ROTATION: 6,
  CAPABILITY_RESOURCE_CREATE: 7,
  CAPABILITY_RESOURCE_DELETE: 8,
};

/** Every message generated from the service-mode protos. */
function newMessages(): DescMessage[] {
  const out: DescMessage[] = [];
  const visit = (m: DescMessage): void => {
    if (m.proto.options?.mapEntry) return;
    out.push(m);
    m.nestedMessages.forEach(visit);
  };
  for (const mod of [baton, account, connector, grantManager, ticket, rpc]) {
    for (const [name, value] of Object.entries(mod)) {
      if (name.startsWith('file_')) {
        for (const m of (value as { messages: DescMessage[] }).messages) visit(m);
      }
    }
  }
  return out;
}

/** Field numbers at the top level of an encoded message, in wire order. */
function wireFieldNumbers(bytes: Uint8Array): number[] {
  const reader = new BinaryReader(bytes);
  const numbers: number[] = [];
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    numbers.push(no);
    reader.skip(wireType as WireType);
  }
  return numbers;
}

const SAMPLE_ANY: Any = anyPack(
  grantManager.GrantManagerServiceRevokeResponseSchema,
  create(grantManager.GrantManagerServiceRevokeResponseSchema),
);

/** A value for one field, nested messages filled to `depth` levels. */
function sampleValue(field: DescField, depth: number): unknown {
  const scalarOf = (f: DescField): unknown => {
    if (f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message')) {
      const m = f.message!;
      if (m.typeName === 'google.protobuf.Any') return SAMPLE_ANY;
      return depth > 0 ? populate(m, depth - 1) : create(m);
    }
    if (f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum')) return 1;
    const scalar = (f as { scalar?: number }).scalar;
    switch (scalar) {
      case 9: // string
        return `v-${f.name}`;
      case 8: // bool
        return true;
      case 12: // bytes
        return new Uint8Array([1, 2, 3]);
      case 3: // int64
      case 4: // uint64
        return 7n;
      default:
        return 7;
    }
  };
  if (field.fieldKind === 'list') return [scalarOf(field)];
  if (field.fieldKind === 'map') return {};
  return scalarOf(field);
}

/** A message with every plain field set and, per oneof, the case `oneofChoice` picks. */
function populate(
  schema: DescMessage,
  depth = 2,
  oneofChoice: (oneofFields: DescField[]) => DescField | undefined = (fs) => fs[0],
): Message {
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (field.oneof) continue;
    if (field.message?.typeName === 'google.protobuf.Struct') continue;
    init[field.localName] = sampleValue(field, depth);
  }
  for (const oneof of schema.oneofs) {
    const chosen = oneofChoice(oneof.fields);
    if (chosen) {
      init[oneof.localName] = { case: chosen.localName, value: sampleValue(chosen, depth) };
    }
  }
  return create(schema, init as never);
}

describe('service-mode protos keep ConductorOne field numbers', () => {
  it.each(Object.keys(EXPECTED))('%s: descriptor numbers', (typeName) => {
    const schema = newMessages().find((m) => m.typeName === typeName);
    expect(schema, `${typeName} is declared`).toBeDefined();
    const actual = Object.fromEntries(schema!.fields.map((f) => [f.name, f.number]));
    expect(actual).toEqual(EXPECTED[typeName]);
  });

  it.each(Object.keys(EXPECTED))('%s: numbers on the wire', (typeName) => {
    const schema = newMessages().find((m) => m.typeName === typeName)!;
    const expected = EXPECTED[typeName]!;
    const oneofFields = schema.oneofs.flatMap((o) => o.fields);
    // One encoding per oneof case, so each case's number is seen on the wire.
    const choices = oneofFields.length > 0 ? oneofFields : [undefined];
    for (const choice of choices) {
      const msg = populate(schema, 1, (fs) => (choice && fs.includes(choice) ? choice : undefined));
      const seen = new Set(wireFieldNumbers(toBinary(schema, msg)));
      const want = schema.fields
        .filter((f) => !f.oneof || f === choice)
        .filter((f) => f.message?.typeName !== 'google.protobuf.Struct')
        .map((f) => expected[f.name]);
      expect([...seen].sort((a, b) => a - b)).toEqual(want.sort((a, b) => a! - b!));
    }
  });

  it('every new message round-trips through its binary form', () => {
    const all = newMessages();
    expect(all.length).toBeGreaterThan(60);
    for (const schema of all) {
      const msg = populate(schema);
      const back = fromBinary(schema, toBinary(schema, msg));
      expect(equals(schema, back, msg), schema.typeName).toBe(true);
    }
  });

  it('Capability enum values are baton’s', () => {
    for (const [name, value] of Object.entries(CAPABILITY_VALUES)) {
      expect(connector.CapabilitySchema.values.find((v) => v.name === name)?.number, name).toBe(value);
    }
  });

  it('Task.Status values are baton’s', () => {
    expect(baton.Task_StatusSchema.values.map((v) => [v.name, v.number])).toEqual([
      ['STATUS_UNSPECIFIED', 0],
      ['STATUS_PENDING', 1],
      ['STATUS_SCHEDULED', 2],
      ['STATUS_RUNNING', 3],
      ['STATUS_FINISHED', 4],
    ]);
  });

  it('known bytes decode: a grant task from hand-assembled wire data', () => {
    // Task{id:"a", grant{entitlement{id:"e"}, principal{display_name:"p"}}}, assembled by hand.
    const entitlement = [0x12, 0x01, 0x65]; // Entitlement.id = 2
    const principal = [0x1a, 0x01, 0x70]; // Resource.display_name = 3
    const grantTask = [0x0a, entitlement.length, ...entitlement, 0x12, principal.length, ...principal];
    // field 103, wire type 2 -> tag varint (103 << 3 | 2) = 826 = 0xba 0x06
    const bytes = new Uint8Array([0x0a, 0x01, 0x61, 0xba, 0x06, grantTask.length, ...grantTask]);
    const task = fromBinary(baton.TaskSchema, bytes);
    expect(task.id).toBe('a');
    expect(task.taskType.case).toBe('grant');
    if (task.taskType.case !== 'grant') return;
    expect(task.taskType.value.entitlement?.id).toBe('e');
    expect(task.taskType.value.principal?.displayName).toBe('p');
  });

  it('an Any-packed GrantManagerServiceGrantResponse carries baton’s type URL', () => {
    const response = create(grantManager.GrantManagerServiceGrantResponseSchema, {
      grants: [
        {
          id: 'g',
          entitlement: create(EntitlementSchema, { id: 'e' }),
          principal: create(ResourceSchema, { displayName: 'p' }),
        },
      ],
    });
    const any = anyPack(grantManager.GrantManagerServiceGrantResponseSchema, response);
    expect(any.typeUrl).toBe('type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse');
    const back = anyUnpack(any, grantManager.GrantManagerServiceGrantResponseSchema);
    expect(back?.grants[0]?.id).toBe('g');
    const poll = create(baton.BatonServiceGetTaskResponseSchema, { nextPoll: durationFromMs(1500) });
    expect(wireFieldNumbers(toBinary(baton.BatonServiceGetTaskResponseSchema, poll))).toEqual([2]);
  });
});
