import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { create } from '@bufbuild/protobuf';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { silentLogger, type Logger } from '../log.js';
import { packageInfo } from './build-info.js';
import { openConnection, proxyFor, type ConnectionOptions } from './connection.js';
import type { C1Credentials } from './credentials.js';
import { resolveEndpoint, type C1Endpoint } from './endpoint.js';
import { C1TokenSource } from './token.js';
import { createTrustContext } from './trust.js';
import {
  BatonService,
  BatonServiceUploadAssetRequestSchema,
  type BatonServiceFinishTaskRequest,
  type BatonServiceHelloRequest,
  type BatonServiceUploadAssetRequest,
  type Task,
} from './messages.js';
import type { MessageInitShape } from '@bufbuild/protobuf';

/** baton-sdk's upload chunk: 512 KiB (the server takes up to 1 MiB per message). */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;
/** FinishTask gets its own deadline so a stuck server cannot hold a slot forever (baton: 30 s). */
const FINISH_TIMEOUT_MS = 30_000;
/** The other unary calls: baton sets none, but a half-dead connection must not hang the loop. */
const CALL_TIMEOUT_MS = 60_000;

export interface C1ClientOptions {
  creds: C1Credentials;
  /** BATON_C1_API_HOST, BATON_HOST_ID, HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Extra CA (PEM) to trust, on top of the system roots: tests with a generated CA. */
  ca?: string | Buffer;
  logger?: Logger;
}

export interface PolledTask {
  task?: Task;
  /** The server's next_poll in ms (undefined when it sent none). */
  nextPollMs?: number;
}

/**
 * The ConductorOne side of service mode: BatonService over gRPC (HTTP/2, TLS), a bearer token on
 * every call. One HTTP/2 connection is kept and reopened after errors; a refused token is dropped
 * and the call sent once more with a fresh one.
 */
export class C1Client {
  readonly hostId: string;
  readonly endpoint: C1Endpoint;
  readonly tokens: C1TokenSource;
  private readonly rpc: Client<typeof BatonService>;
  private readonly session: Http2SessionManager;
  private readonly logger: Logger;

  constructor(opts: C1ClientOptions) {
    const env = opts.env ?? process.env;
    this.logger = opts.logger ?? silentLogger;
    this.endpoint = resolveEndpoint(opts.creds, env);
    this.hostId = (env.BATON_HOST_ID?.trim() || hostname() || 'baton-sdk').slice(0, 256);
    const connection: ConnectionOptions = {
      secureContext: createTrustContext({ ca: opts.ca, env }),
      proxy: proxyFor(this.endpoint, env),
      alpn: ['h2'],
    };
    const pkg = packageInfo();
    const userAgent = `${opts.creds.clientName} ${pkg.name}/${pkg.version}`;
    this.tokens = new C1TokenSource({
      creds: opts.creds,
      endpoint: this.endpoint,
      connection,
      userAgent,
      logger: this.logger,
    });
    const ep = this.endpoint;
    this.session = new Http2SessionManager(
      ep.origin,
      // Pings find a connection a proxy or load balancer dropped silently, instead of a call hanging.
      { pingIntervalMs: 30_000, pingTimeoutMs: 15_000, idleConnectionTimeoutMs: 300_000 },
      { createConnection: () => openConnection(ep, connection) as never },
    );
    const auth: Interceptor = (next) => async (req) => {
      const header = await this.tokens.header(req.signal);
      req.header.set('authorization', header);
      req.header.set('user-agent', userAgent);
      try {
        return await next(req);
      } catch (err) {
        // A token the server no longer takes (expired early, revoked): once more with a new one.
        // Streams cannot be replayed here; the upload retries as a whole instead.
        if (req.stream || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
        this.tokens.invalidate(header);
        this.logger.debug({ method: req.method.name }, 'ConductorOne refused the token; renewing it');
        req.header.set('authorization', await this.tokens.header(req.signal));
        return await next(req);
      }
    };
    const transport = createGrpcTransport({
      baseUrl: ep.origin,
      sessionManager: this.session,
      interceptors: [auth],
    });
    this.rpc = createClient(BatonService, transport);
  }

  /** Sends the Hello (host id filled in here). */
  async hello(req: BatonServiceHelloRequest, signal?: AbortSignal): Promise<void> {
    req.hostId = this.hostId;
    await this.rpc.hello(req, { signal, timeoutMs: CALL_TIMEOUT_MS });
  }

  async getTask(signal?: AbortSignal): Promise<PolledTask> {
    const res = await this.rpc.getTask({ hostId: this.hostId }, { signal, timeoutMs: CALL_TIMEOUT_MS });
    const task =
      res.task && res.task.taskType.case !== undefined && res.task.taskType.case !== 'none'
        ? res.task
        : undefined;
    return { task, nextPollMs: res.nextPoll ? durationMs(res.nextPoll) : undefined };
  }

  /** One heartbeat; the answer says when to send the next one and whether the task was cancelled. */
  async heartbeat(
    taskId: string,
    signal?: AbortSignal,
  ): Promise<{ cancelled: boolean; nextHeartbeatMs?: number }> {
    const res = await this.rpc.heartbeat(
      { hostId: this.hostId, taskId },
      { signal, timeoutMs: CALL_TIMEOUT_MS },
    );
    return {
      cancelled: res.cancelled,
      nextHeartbeatMs: res.nextHeartbeat ? durationMs(res.nextHeartbeat) : undefined,
    };
  }

  async finishTask(req: BatonServiceFinishTaskRequest): Promise<void> {
    req.hostId = this.hostId;
    // Not tied to the task's signal: a cancelled or stopping task must still report how it ended.
    await this.rpc.finishTask(req, { timeoutMs: FINISH_TIMEOUT_MS });
  }

  /**
   * Streams a file as one asset of the task: metadata, the bytes in 512 KiB chunks, then the
   * SHA-256 of the whole file. A refused token restarts the upload once with a new one.
   */
  async uploadAsset(
    taskId: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<{ bytes: number; chunks: number }> {
    const sha256 = await fileSha256(path, signal);
    const { size } = await stat(path);
    for (let attempt = 0; ; attempt++) {
      let chunks = 0;
      try {
        await this.rpc.uploadAsset(
          this.uploadMessages(taskId, path, sha256, () => chunks++, signal),
          { signal },
        );
        return { bytes: size, chunks };
      } catch (err) {
        if (attempt > 0 || ConnectError.from(err).code !== Code.Unauthenticated || signal?.aborted) throw err;
        this.tokens.invalidate();
      }
    }
  }

  private async *uploadMessages(
    taskId: string,
    path: string,
    sha256: Buffer,
    onChunk: () => void,
    signal?: AbortSignal,
  ): AsyncGenerator<BatonServiceUploadAssetRequest> {
    const msg = (m: MessageInitShape<typeof BatonServiceUploadAssetRequestSchema>) =>
      create(BatonServiceUploadAssetRequestSchema, m);
    yield msg({ msg: { case: 'metadata', value: { hostId: this.hostId, taskId } } });
    const stream = createReadStream(path, { highWaterMark: UPLOAD_CHUNK_BYTES, signal });
    let pending: Buffer = Buffer.alloc(0);
    // Exact 512 KiB chunks whatever the stream hands out; only the last one is shorter.
    for await (const piece of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
      while (pending.length >= UPLOAD_CHUNK_BYTES) {
        onChunk();
        yield msg({ msg: { case: 'data', value: { data: pending.subarray(0, UPLOAD_CHUNK_BYTES) } } });
        pending = pending.subarray(UPLOAD_CHUNK_BYTES);
      }
    }
    if (pending.length > 0) {
      onChunk();
      yield msg({ msg: { case: 'data', value: { data: pending } } });
    }
    yield msg({ msg: { case: 'eof', value: { sha256Checksum: sha256 } } });
  }

  /** Closes the HTTP/2 connection; calls after this open a new one. */
  close(): void {
    this.session.abort();
  }
}

async function fileSha256(path: string, signal?: AbortSignal): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { signal }) as AsyncIterable<Buffer>) hash.update(piece);
  return hash.digest();
}
