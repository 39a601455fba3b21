import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  BatonServiceFinishTaskRequest,
  BatonServiceHelloRequest,
  Task,
  TaskSchema,
  Task_CreateAccountTaskSchema,
  Task_GrantTaskSchema,
  Task_RevokeTaskSchema,
  Task_SyncFullTaskSchema,
} from '../../c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import type { FakeC1Fault, FakeC1FaultHandle } from './faults.js';
import type { TokenRequestRecord } from './token-endpoint.js';

export type { FakeC1Fault, FakeC1FaultHandle } from './faults.js';
export type { TokenRequestRecord } from './token-endpoint.js';

/** The RPCs of c1.connectorapi.baton.v1.BatonService. */
export type RpcMethodName =
  'Hello' | 'GetTask' | 'GetTasks' | 'Heartbeat' | 'FinishTask' | 'UploadAsset' | 'StartDebugging';

/** The `task_type` case names of a Task (`sync_full` is `syncFull` etc. in the generated code). */
export type TaskTypeCase = NonNullable<Task['taskType']['case']>;

export interface FakeC1Options {
  /** Address to listen on. Default 127.0.0.1 (tests must not listen elsewhere). */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /**
   * TLS (default true) with a CA and certificate generated for 127.0.0.1/::1/localhost (and
   * `host`), or the caller's own PEMs. `false` = plain HTTP, for loopback only: then gRPC is
   * cleartext HTTP/2 (prior knowledge, "h2c") and the token endpoint answers HTTP/1.1 or h2c on
   * the same port (the fake tells them apart by the HTTP/2 connection preface).
   */
  tls?: boolean | { certPem: string; keyPem: string; caPem?: string };
  /** Accept these credentials instead of generating a new Ed25519 pair. */
  credentials?: { clientId: string; clientSecret: string };
  /** Client name and tenant host of generated credentials (`<name>@<host>/pcc`). */
  clientName?: string;
  tenantHost?: string;
  /** Access-token lifetime given by the token endpoint (`expires_in`). Default 3600 s. */
  tokenTtlSeconds?: number;
  /** `next_poll` of every GetTask/GetTasks answer (always set; baton busy-loops on 0). Default 1000 ms. */
  nextPollMs?: number;
  /** `next_heartbeat` of every Heartbeat answer (and of GetTask). Default 2000 ms. */
  nextHeartbeatMs?: number;
  /** How "no task" is sent: no `task` field (default) or a task with `none` set. Both mean idle. */
  noTaskAs?: 'absent' | 'none';
  /** Queue a task again after a retryable FinishTask error, as ConductorOne does. Default false. */
  requeueRetryable?: boolean;
  /** Save every verified upload here as `<task id>-<n>.c1z` (or `.bin` when it is not a c1z). */
  uploadDir?: string;
  /** Largest upload kept in memory. Default 256 MiB. */
  maxUploadBytes?: number;
}

/** A task handed to tests (its id is what later records refer to). */
export interface QueuedTask {
  id: string;
  task: Task;
}

/** Where a task is in its life at the fake. */
export type TaskState = 'queued' | 'leased' | 'finished' | 'unknown';

/**
 * Builds and queues tasks; GetTask hands them out first-in first-out, each to one poller.
 * Every method returns the queued task, whose 27-character id the records use.
 */
export interface FakeC1TaskQueue {
  /** A full sync (`sync_full`); expect Heartbeat, UploadAsset, then FinishTask(success). */
  syncFull(options?: MessageInitShape<typeof Task_SyncFullTaskSchema>): QueuedTask;
  /** A grant task: `entitlement` (with its resource) and `principal`, as c1.connector.v2 messages or init objects. */
  grant(spec: MessageInitShape<typeof Task_GrantTaskSchema>): QueuedTask;
  /** A revoke task for `grant` (entitlement, principal, id). */
  revoke(spec: MessageInitShape<typeof Task_RevokeTaskSchema>): QueuedTask;
  /** A create_account task. */
  createAccount(spec: MessageInitShape<typeof Task_CreateAccountTaskSchema>): QueuedTask;
  /** A server-issued hello task (answered by a Hello carrying its id, without FinishTask). */
  hello(): QueuedTask;
  /** A task of a type this connector does not run (default `event_feed`); expect FinishTask code 2, retryable. */
  unsupported(
    kind?: Exclude<TaskTypeCase, 'syncFull' | 'grant' | 'revoke' | 'createAccount' | 'hello' | 'none'>,
  ): QueuedTask;
  /** Any task, from a `task_type` oneof value. */
  raw(taskType: MessageInitShape<typeof TaskSchema>['taskType']): QueuedTask;
  /** Tasks not yet handed out. */
  queued(): QueuedTask[];
  state(taskId: string): TaskState;
}

/** One RPC as it reached the fake, whatever its outcome. */
export interface RpcCallRecord {
  method: RpcMethodName;
  at: Date;
  /** `2.0` for HTTP/2. */
  httpVersion: string;
  /** Same number = same connection (baton's Go peer dials a new one per RPC). */
  connectionId: number;
  userAgent?: string;
  /** 0 = OK, else the gRPC code answered (Code from @connectrpc/connect); -1 = connection reset, no answer. */
  code: number;
  /** Error message, when not OK. */
  message?: string;
  /** The injected fault this call got, if any. */
  fault?: FakeC1Fault['kind'];
}

export interface HelloRecord {
  at: Date;
  request: BatonServiceHelloRequest;
  connectionId: number;
}

export interface PollRecord {
  at: Date;
  hostId: string;
  /** Id of the task handed out, if one was. */
  taskId?: string;
  method: 'GetTask' | 'GetTasks';
}

export interface HeartbeatRecord {
  at: Date;
  hostId: string;
  taskId: string;
  /** 1 for the task's first heartbeat, 2 for the second... */
  n: number;
  cancelled: boolean;
}

export interface UploadRecord {
  at: Date;
  hostId: string;
  taskId: string;
  /** The uploaded bytes, whose sha256 matched the eof checksum. */
  bytes: Buffer;
  sha256: string;
  /** Size of every data message, in order. */
  chunkSizes: number[];
  /** Where it was saved, with `uploadDir`. */
  savedPath?: string;
}

export interface FinishRecord {
  at: Date;
  taskId: string;
  hostId: string;
  /** The decoded request. */
  request: BatonServiceFinishTaskRequest;
  outcome: 'success' | 'error';
  /** `status.code` (0 when absent). */
  code: number;
  message: string;
  nonRetryable: boolean;
  /** Type URL of `success.response`/`error.response`, e.g. `type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse`. */
  responseTypeUrl?: string;
  /** Whether the fake had handed this task out. */
  knownTask: boolean;
}

/** Everything the fake saw, in arrival order. Arrays are live: they grow as calls arrive. */
export interface FakeC1Records {
  tokenRequests: TokenRequestRecord[];
  calls: RpcCallRecord[];
  /** Accepted Hello requests (rejected ones are in `calls` with code 3 and the reason). */
  hellos: HelloRecord[];
  /** Accepted GetTask/GetTasks calls. */
  polls: PollRecord[];
  heartbeats: HeartbeatRecord[];
  /** Uploads that passed every check (order, sizes, sha256). */
  uploads: UploadRecord[];
  finishes: FinishRecord[];
}

export interface WaitOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface FakeC1 {
  /** `https://127.0.0.1:<port>` (or `http://` in plain mode). */
  url: string;
  /** `host:port`: BATON_C1_API_HOST in TLS mode (plain mode needs the scheme: `env()` gives `http://host:port`). */
  apiHost: string;
  port: number;
  tls: boolean;
  clientId: string;
  clientSecret: string;
  /** PEM file of the CA that signed the server certificate (TLS mode only): NODE_EXTRA_CA_CERTS / SSL_CERT_FILE. */
  caPath?: string;
  /** The CA PEM itself (TLS mode), for a client that takes trust roots as an option. */
  caPem?: string;
  /**
   * Environment for a connector process: BATON_CLIENT_ID, BATON_CLIENT_SECRET,
   * BATON_C1_API_HOST (`host:port` with TLS, `http://host:port` in plain mode), and
   * NODE_EXTRA_CA_CERTS in TLS mode.
   */
  env(): Record<string, string>;
  tasks: FakeC1TaskQueue;
  records: FakeC1Records;
  /** Answer the `n`th heartbeat of `taskId` (1 = the first) with `cancelled: true`. */
  cancelAtHeartbeat(taskId: string, n?: number): void;
  /** Changes `next_poll` from now on. */
  setNextPoll(ms: number): void;
  /** Changes `next_heartbeat` from now on. */
  setNextHeartbeat(ms: number): void;
  /** Access tokens: shorten the lifetime of new ones, expire or revoke those issued. */
  tokens: {
    setTtlSeconds(seconds: number): void;
    expireAll(): void;
    revokeAll(): void;
    readonly issued: number;
  };
  /**
   * Revokes the client credentials, as rotating them in ConductorOne does: every token issued
   * stops working (Unauthenticated) and the token endpoint refuses the client from then on
   * (`401 {"error":"invalid_client","error_description":"client credentials revoked"}`).
   */
  revokeCredentials(): void;
  faults: {
    inject(fault: FakeC1Fault): FakeC1FaultHandle;
    clear(): void;
  };
  /** Resolves with the first accepted Hello after `afterCount` of them (default: any). */
  waitForHello(options?: WaitOptions & { afterCount?: number }): Promise<HelloRecord>;
  /** Resolves once `count` polls in total have been accepted. */
  waitForPolls(count: number, options?: WaitOptions): Promise<PollRecord[]>;
  /** Resolves once `taskId` has had `count` heartbeats. */
  waitForHeartbeats(taskId: string, count: number, options?: WaitOptions): Promise<HeartbeatRecord[]>;
  /** Resolves with the first verified upload of `taskId`. */
  waitForUpload(taskId: string, options?: WaitOptions): Promise<UploadRecord>;
  /** Resolves with the FinishTask of `taskId`. */
  waitForFinish(taskId: string, options?: WaitOptions): Promise<FinishRecord>;
  /** Resolves with the first non-undefined value of `check`, re-run on every record; rejects with `what` after the timeout. */
  waitFor<T>(check: () => T | undefined, what: string, options?: WaitOptions): Promise<T>;
  /** Stops listening, drops open connections and removes the generated certificate files. */
  close(): Promise<void>;
}
