import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createContextKey,
  type ConnectRouter,
  type HandlerContext,
} from '@connectrpc/connect';
import {
  BatonService,
  BatonServiceFinishTaskResponseSchema,
  BatonServiceGetTaskResponseSchema,
  BatonServiceGetTasksResponseSchema,
  BatonServiceHeartbeatResponseSchema,
  BatonServiceHelloResponseSchema,
  BatonServiceUploadAssetResponseSchema,
  StartDebuggingResponseSchema,
  TaskSchema,
  type BatonServiceUploadAssetRequest,
} from '../../c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import type { FakeC1Fault } from './faults.js';
import { FaultSchedule } from './faults.js';
import { TaskQueue } from './tasks.js';
import { FakeC1Tokens } from './token-endpoint.js';
import type { FakeC1Records, RpcCallRecord, RpcMethodName } from './types.js';
import {
  validateFinishTask,
  validateGetTask,
  validateGetTasks,
  validateHeartbeat,
  validateHello,
  validateUploadData,
  validateUploadEof,
  validateUploadMetadata,
} from './validate.js';

/** What the transport layer learnt about a request before gRPC decoding. */
export interface RequestInfo {
  connectionId: number;
  httpVersion: string;
  fault?: FakeC1Fault['kind'];
}

export const kRequestInfo = createContextKey<RequestInfo>({ connectionId: 0, httpVersion: '' });

export interface ServiceConfig {
  nextPollMs: number;
  nextHeartbeatMs: number;
  noTaskAs: 'absent' | 'none';
  requeueRetryable: boolean;
  uploadDir?: string;
  maxUploadBytes: number;
}

/** The fake's memory: queue, tokens, faults, records; `changed` fires on every new record. */
export class FakeC1State {
  readonly records: FakeC1Records = {
    tokenRequests: [],
    calls: [],
    hellos: [],
    polls: [],
    heartbeats: [],
    uploads: [],
    finishes: [],
  };
  readonly changed = new EventEmitter();
  readonly queue = new TaskQueue(() => this.notify());
  readonly faults = new FaultSchedule();
  readonly tokens: FakeC1Tokens;
  /** task id -> heartbeat numbers (1-based) to answer cancelled; `0` = every one from now. */
  readonly cancelAt = new Map<string, number>();
  private readonly heartbeatCounts = new Map<string, number>();
  private readonly uploadCounts = new Map<string, number>();

  constructor(
    readonly config: ServiceConfig,
    tokenTtlSeconds: number,
  ) {
    this.tokens = new FakeC1Tokens(tokenTtlSeconds);
    this.changed.setMaxListeners(0);
  }

  notify(): void {
    this.changed.emit('change');
  }

  nextHeartbeatCount(taskId: string): number {
    const n = (this.heartbeatCounts.get(taskId) ?? 0) + 1;
    this.heartbeatCounts.set(taskId, n);
    return n;
  }

  nextUploadIndex(taskId: string): number {
    const n = (this.uploadCounts.get(taskId) ?? 0) + 1;
    this.uploadCounts.set(taskId, n);
    return n;
  }
}

/**
 * Runs one RPC with what every call gets: the call record, an injected Unavailable, the bearer
 * check, and the outcome code in the record.
 */
async function call<T>(
  state: FakeC1State,
  method: RpcMethodName,
  ctx: HandlerContext,
  body: () => Promise<T> | T,
): Promise<T> {
  const info = ctx.values.get(kRequestInfo);
  const rec: RpcCallRecord = {
    method,
    at: new Date(),
    httpVersion: info.httpVersion,
    connectionId: info.connectionId,
    userAgent: ctx.requestHeader.get('user-agent') ?? undefined,
    code: 0,
    fault: info.fault,
  };
  state.records.calls.push(rec);
  try {
    if (info.fault === 'unavailable') {
      throw new ConnectError('fake ConductorOne: injected outage', Code.Unavailable);
    }
    const auth = state.tokens.check(ctx.requestHeader.get('authorization'));
    if (!auth.ok) {
      throw new ConnectError(
        auth.reason === 'missing'
          ? 'missing bearer token in the authorization metadata'
          : `bearer token ${auth.reason}`,
        Code.Unauthenticated,
      );
    }
    return await body();
  } catch (err) {
    const e = ConnectError.from(err);
    rec.code = e.code;
    rec.message = e.rawMessage;
    throw e;
  } finally {
    state.notify();
  }
}

function noTask(state: FakeC1State) {
  return state.config.noTaskAs === 'none'
    ? create(TaskSchema, { taskType: { case: 'none', value: {} } })
    : undefined;
}

async function receiveUpload(
  state: FakeC1State,
  requests: AsyncIterable<BatonServiceUploadAssetRequest>,
): Promise<void> {
  let meta: { hostId: string; taskId: string } | undefined;
  const chunks: Buffer[] = [];
  const sizes: number[] = [];
  let total = 0;
  let eof: Uint8Array | undefined;
  for await (const req of requests) {
    const msg = req.msg;
    if (eof) {
      throw new ConnectError('invalid upload: message after eof', Code.InvalidArgument);
    }
    switch (msg.case) {
      case 'metadata':
        if (meta) throw new ConnectError('invalid upload: metadata sent twice', Code.InvalidArgument);
        validateUploadMetadata(msg.value);
        meta = { hostId: msg.value.hostId, taskId: msg.value.taskId };
        break;
      case 'data':
        if (!meta) throw new ConnectError('invalid upload: data before metadata', Code.InvalidArgument);
        validateUploadData(msg.value.data);
        total += msg.value.data.length;
        if (total > state.config.maxUploadBytes) {
          throw new ConnectError(
            `upload larger than the fake's limit of ${state.config.maxUploadBytes} bytes`,
            Code.ResourceExhausted,
          );
        }
        chunks.push(Buffer.from(msg.value.data));
        sizes.push(msg.value.data.length);
        break;
      case 'eof':
        if (!meta) throw new ConnectError('invalid upload: eof before metadata', Code.InvalidArgument);
        validateUploadEof(msg.value);
        eof = msg.value.sha256Checksum;
        break;
      default:
        throw new ConnectError(
          'invalid BatonServiceUploadAssetRequest.msg: value is required',
          Code.InvalidArgument,
        );
    }
  }
  if (!meta) throw new ConnectError('invalid upload: stream ended without metadata', Code.InvalidArgument);
  if (!eof) throw new ConnectError('invalid upload: stream ended without eof', Code.InvalidArgument);
  const bytes = Buffer.concat(chunks);
  const sha = createHash('sha256').update(bytes).digest();
  if (!sha.equals(Buffer.from(eof))) {
    throw new ConnectError(
      `invalid upload: sha256_checksum ${Buffer.from(eof).toString('hex')} does not match the ${bytes.length} bytes received (${sha.toString('hex')})`,
      Code.InvalidArgument,
    );
  }
  let savedPath: string | undefined;
  if (state.config.uploadDir) {
    const n = state.nextUploadIndex(meta.taskId);
    const ext = bytes.subarray(0, 3).toString('latin1') === 'C1Z' ? 'c1z' : 'bin';
    savedPath = join(state.config.uploadDir, `${meta.taskId}-${n}.${ext}`);
    writeFileSync(savedPath, bytes);
  }
  state.records.uploads.push({
    at: new Date(),
    hostId: meta.hostId,
    taskId: meta.taskId,
    bytes,
    sha256: sha.toString('hex'),
    chunkSizes: sizes,
    savedPath,
  });
}

/** The BatonService routes, bound to the fake's state. */
export function batonRoutes(state: FakeC1State) {
  const cfg = state.config;
  return (router: ConnectRouter) =>
    router.service(BatonService, {
      hello: (req, ctx) =>
        call(state, 'Hello', ctx, () => {
          validateHello(req);
          state.records.hellos.push({
            at: new Date(),
            request: req,
            connectionId: ctx.values.get(kRequestInfo).connectionId,
          });
          return create(BatonServiceHelloResponseSchema);
        }),

      getTask: (req, ctx) =>
        call(state, 'GetTask', ctx, () => {
          validateGetTask(req);
          const task = state.queue.lease();
          state.records.polls.push({
            at: new Date(),
            hostId: req.hostId,
            taskId: task?.id,
            method: 'GetTask',
          });
          return create(BatonServiceGetTaskResponseSchema, {
            task: task ?? noTask(state),
            nextPoll: durationFromMs(cfg.nextPollMs),
            nextHeartbeat: durationFromMs(cfg.nextHeartbeatMs),
          });
        }),

      getTasks: (req, ctx) =>
        call(state, 'GetTasks', ctx, () => {
          validateGetTasks(req);
          const tasks = state.queue.leaseMany(req.pageSize, req.knownTaskIds);
          for (const t of tasks.length ? tasks : [undefined]) {
            state.records.polls.push({
              at: new Date(),
              hostId: req.hostId,
              taskId: t?.id,
              method: 'GetTasks',
            });
          }
          return create(BatonServiceGetTasksResponseSchema, {
            tasks,
            nextPoll: durationFromMs(cfg.nextPollMs),
            nextHeartbeat: durationFromMs(cfg.nextHeartbeatMs),
          });
        }),

      heartbeat: (req, ctx) =>
        call(state, 'Heartbeat', ctx, () => {
          validateHeartbeat(req);
          const n = state.nextHeartbeatCount(req.taskId);
          const at = state.cancelAt.get(req.taskId);
          const cancelled = at !== undefined && n >= at;
          state.records.heartbeats.push({
            at: new Date(),
            hostId: req.hostId,
            taskId: req.taskId,
            n,
            cancelled,
          });
          return create(BatonServiceHeartbeatResponseSchema, {
            nextHeartbeat: durationFromMs(cfg.nextHeartbeatMs),
            cancelled,
          });
        }),

      finishTask: (req, ctx) =>
        call(state, 'FinishTask', ctx, () => {
          validateFinishTask(req);
          const final = req.finalState;
          const knownTask = state.queue.isLeased(req.taskId);
          const nonRetryable = final.case === 'error' && final.value.nonRetryable;
          state.records.finishes.push({
            at: new Date(),
            taskId: req.taskId,
            hostId: req.hostId,
            request: req,
            outcome: final.case === 'error' ? 'error' : 'success',
            code: req.status?.code ?? 0,
            message: req.status?.message ?? '',
            nonRetryable,
            responseTypeUrl: final.value?.response?.typeUrl,
            knownTask,
          });
          state.queue.finish(req.taskId, final.case === 'error' && !nonRetryable, cfg.requeueRetryable);
          return create(BatonServiceFinishTaskResponseSchema);
        }),

      uploadAsset: (requests, ctx) =>
        call(state, 'UploadAsset', ctx, async () => {
          await receiveUpload(state, requests);
          return create(BatonServiceUploadAssetResponseSchema);
        }),

      startDebugging: (_req, ctx) =>
        call(state, 'StartDebugging', ctx, () => create(StartDebuggingResponseSchema, { status: false })),
    });
}
