/**
 * The server-side request rules of BatonService as baton-sdk v0.2.58 declares them
 * (protoc-gen-validate options in baton.proto and connector.proto; c1-service-mode §4.2). A request
 * that breaks one is answered InvalidArgument with a message naming the message and field, in the
 * shape protoc-gen-validate's Go code produces ("invalid <Message>.<Field>: <why>").
 *
 * Task ids: baton writes the Hello rule as `^[a-zA-Z0-9]{27}|$`, which as a regular expression
 * matches anything (the `|$` alternative matches at the end of every string). The intent, and
 * what a client should assume, is "27 alphanumerics or empty", so that is what is enforced here.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { Any } from '@bufbuild/protobuf/wkt';
import type {
  BatonServiceFinishTaskRequest,
  BatonServiceGetTaskRequest,
  BatonServiceGetTasksRequest,
  BatonServiceHeartbeatRequest,
  BatonServiceHelloRequest,
  BatonServiceUploadAssetRequest_UploadEOF,
  BatonServiceUploadAssetRequest_UploadMetadata,
} from '../../c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import type { ConnectorMetadata } from '../../c1z/gen/c1/connector/v2/connector_pb.js';

export const TASK_ID = /^[a-zA-Z0-9]{27}$/;
export const MAX_UPLOAD_CHUNK = 1024 * 1024;
const MAX_ANNOTATIONS = 16;

function invalid(where: string, why: string): never {
  throw new ConnectError(`invalid ${where}: ${why}`, Code.InvalidArgument);
}

/** protoc-gen-validate's min_len/max_len count characters (runes), not bytes. */
function runes(s: string): number {
  return [...s].length;
}

function lengthBetween(where: string, value: string, min: number, max: number): void {
  const n = runes(value);
  if (n < min || n > max) {
    invalid(where, `value length must be between ${min} and ${max} runes, inclusive`);
  }
}

function bytesAtMost(where: string, value: string, min: number, max: number, ignoreEmpty: boolean): void {
  if (ignoreEmpty && value === '') return;
  const n = Buffer.byteLength(value);
  if (n < min || n > max) invalid(where, `value length must be between ${min} and ${max} bytes, inclusive`);
}

function taskId(where: string, value: string, allowEmpty = false): void {
  if (allowEmpty && value === '') return;
  if (!TASK_ID.test(value)) {
    invalid(where, `value does not match regex pattern "^[a-zA-Z0-9]{27}${allowEmpty ? '|' : ''}$"`);
  }
}

function annotations(where: string, list: Any[]): void {
  if (list.length > MAX_ANNOTATIONS) {
    invalid(where, `value must contain no more than ${MAX_ANNOTATIONS} item(s)`);
  }
}

function hostId(message: string, value: string): void {
  lengthBetween(`${message}.host_id`, value, 1, 256);
}

/** Nested rules of c1.connector.v2.ConnectorMetadata (validated recursively, as PGV does). */
function connectorMetadata(m: ConnectorMetadata): void {
  bytesAtMost('ConnectorMetadata.display_name', m.displayName, 1, 1024, false);
  if (m.helpUrl !== '') {
    bytesAtMost('ConnectorMetadata.help_url', m.helpUrl, 1, 1024, false);
    if (!m.helpUrl.startsWith('https://'))
      invalid('ConnectorMetadata.help_url', 'value does not have prefix "https://"');
    if (!URL.canParse(m.helpUrl)) invalid('ConnectorMetadata.help_url', 'value must be absolute URI');
  }
  bytesAtMost('ConnectorMetadata.description', m.description, 1, 4096, true);
  for (const [i, cap] of (m.capabilities?.resourceTypeCapabilities ?? []).entries()) {
    const rt = cap.resourceType;
    if (!rt) continue;
    bytesAtMost(`ResourceTypeCapability[${i}].resource_type.id`, rt.id, 1, 1024, false);
    bytesAtMost(`ResourceTypeCapability[${i}].resource_type.display_name`, rt.displayName, 1, 1024, true);
    if (new Set(rt.traits).size !== rt.traits.length) {
      invalid(
        `ResourceTypeCapability[${i}].resource_type.traits`,
        'repeated value must contain unique items',
      );
    }
  }
}

export function validateHello(req: BatonServiceHelloRequest): void {
  const M = 'BatonServiceHelloRequest';
  hostId(M, req.hostId);
  taskId(`${M}.task_id`, req.taskId, true);
  if (!req.buildInfo) invalid(`${M}.build_info`, 'value is required');
  for (const [field, value] of [
    ['lang_version', req.buildInfo.langVersion],
    ['package', req.buildInfo.package],
    ['package_version', req.buildInfo.packageVersion],
  ] as const) {
    lengthBetween(`${M}.build_info.${field}`, value, 1, 256);
  }
  if (!req.osInfo) invalid(`${M}.os_info`, 'value is required');
  const os = req.osInfo;
  for (const [field, value] of [
    ['hostname', os.hostname],
    ['os', os.os],
    ['platform', os.platform],
    ['platform_version', os.platformVersion],
    ['platform_family', os.platformFamily],
    ['kernel_version', os.kernelVersion],
    ['kernel_arch', os.kernelArch],
    ['virtualization_system', os.virtualizationSystem],
  ] as const) {
    lengthBetween(`${M}.os_info.${field}`, value, 1, 256);
  }
  if (!req.connectorMetadata) invalid(`${M}.connector_metadata`, 'value is required');
  connectorMetadata(req.connectorMetadata);
  annotations(`${M}.annotations`, req.annotations);
}

export function validateGetTask(req: BatonServiceGetTaskRequest): void {
  hostId('BatonServiceGetTaskRequest', req.hostId);
}

export function validateGetTasks(req: BatonServiceGetTasksRequest): void {
  const M = 'BatonServiceGetTasksRequest';
  hostId(M, req.hostId);
  if (req.pageSize < 1 || req.pageSize > 100)
    invalid(`${M}.page_size`, 'value must be inside range [1, 100]');
  req.knownTaskIds.forEach((id, i) => taskId(`${M}.known_task_ids[${i}]`, id));
  annotations(`${M}.annotations`, req.annotations);
}

export function validateHeartbeat(req: BatonServiceHeartbeatRequest): void {
  const M = 'BatonServiceHeartbeatRequest';
  hostId(M, req.hostId);
  taskId(`${M}.task_id`, req.taskId);
  annotations(`${M}.annotations`, req.annotations);
  if (req.taskIds.length > 100) invalid(`${M}.task_ids`, 'value must contain no more than 100 item(s)');
  req.taskIds.forEach((id, i) => taskId(`${M}.task_ids[${i}]`, id));
}

export function validateUploadMetadata(m: BatonServiceUploadAssetRequest_UploadMetadata): void {
  const M = 'BatonServiceUploadAssetRequest_UploadMetadata';
  hostId(M, m.hostId);
  taskId(`${M}.task_id`, m.taskId);
  annotations(`${M}.annotations`, m.annotations);
}

export function validateUploadData(data: Uint8Array): void {
  if (data.length < 1 || data.length > MAX_UPLOAD_CHUNK) {
    invalid(
      'BatonServiceUploadAssetRequest_UploadData.data',
      `value length must be between 1 and ${MAX_UPLOAD_CHUNK} bytes, inclusive (got ${data.length})`,
    );
  }
}

export function validateUploadEof(m: BatonServiceUploadAssetRequest_UploadEOF): void {
  const M = 'BatonServiceUploadAssetRequest_UploadEOF';
  if (m.sha256Checksum.length !== 32) {
    invalid(`${M}.sha256_checksum`, `value length must be 32 bytes (got ${m.sha256Checksum.length})`);
  }
  annotations(`${M}.annotations`, m.annotations);
}

export function validateFinishTask(req: BatonServiceFinishTaskRequest): void {
  const M = 'BatonServiceFinishTaskRequest';
  hostId(M, req.hostId);
  taskId(`${M}.task_id`, req.taskId);
  switch (req.finalState.case) {
    case 'error':
      annotations(`${M}_Error.annotations`, req.finalState.value.annotations);
      break;
    case 'success':
      annotations(`${M}_Success.annotations`, req.finalState.value.annotations);
      break;
    default:
      invalid(`${M}.final_state`, 'value is required');
  }
}
