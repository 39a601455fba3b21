import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { audienceOf, generateCredentials, publicKeyFromSecret } from './credentials.js';
import { batonRoutes, FakeC1State, kRequestInfo, type RequestInfo } from './service.js';
import { handleTokenRequest, TOKEN_PATH, type AnyRequest, type AnyResponse } from './token-endpoint.js';
import { generateTls, type GeneratedTls } from './tls.js';
import type { FakeC1, FakeC1Options, RpcMethodName, WaitOptions } from './types.js';

const SERVICE_PREFIX = '/c1.connectorapi.baton.v1.BatonService/';
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A duplex over `socket` whose readable side yields `head` before the socket's further data. */
function replaying(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  duplex.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Starts a fake ConductorOne: the token endpoint and BatonService on one port, a task queue tests
 * drive, records of every call, fault injection. See docs/simulator.md ("Fake ConductorOne").
 */
export async function startFakeC1(options: FakeC1Options = {}): Promise<FakeC1> {
  const host = options.host ?? '127.0.0.1';
  const useTls = options.tls !== false;
  if (!useTls && !isLoopback(host)) {
    throw new Error(`the fake ConductorOne serves plain HTTP only on loopback; ${host} is not (use TLS)`);
  }

  const creds = options.credentials
    ? {
        ...options.credentials,
        audience: audienceOf(options.credentials.clientId),
        publicKey: publicKeyFromSecret(options.credentials.clientSecret),
      }
    : generateCredentials(options.clientName, options.tenantHost);

  if (options.uploadDir) mkdirSync(options.uploadDir, { recursive: true });
  const state = new FakeC1State(
    {
      nextPollMs: options.nextPollMs ?? 1000,
      nextHeartbeatMs: options.nextHeartbeatMs ?? 2000,
      noTaskAs: options.noTaskAs ?? 'absent',
      requeueRetryable: options.requeueRetryable ?? false,
      uploadDir: options.uploadDir,
      maxUploadBytes: options.maxUploadBytes ?? 256 * 1024 * 1024,
    },
    options.tokenTtlSeconds ?? 3600,
  );

  // Connection numbering: an HTTP/2 session or an HTTP/1 socket is one connection.
  const connectionIds = new WeakMap<object, number>();
  let nextConnectionId = 1;
  const connectionOf = (req: AnyRequest): number => {
    const key: object = 'stream' in req && req.stream ? (req.stream.session ?? req.stream) : req.socket;
    let id = connectionIds.get(key);
    if (id === undefined) {
      id = nextConnectionId++;
      connectionIds.set(key, id);
    }
    return id;
  };
  const requestInfo = new WeakMap<object, RequestInfo>();

  const grpcHandler = connectNodeAdapter({
    routes: batonRoutes(state),
    grpc: true,
    grpcWeb: false,
    connect: false,
    contextValues: (req) =>
      createContextValues().set(
        kRequestInfo,
        requestInfo.get(req) ?? { connectionId: connectionOf(req), httpVersion: req.httpVersion },
      ),
  });

  const tokenExpect = { clientId: creds.clientId, audience: creds.audience, publicKey: creds.publicKey };
  /** Set by revokeCredentials(): the client is refused from then on, as after a Rotate. */
  let credentialsRevoked = false;

  const resetConnection = (req: AnyRequest): void => {
    if ('stream' in req && req.stream) req.stream.session?.destroy();
    else req.socket.destroy();
  };

  const handler = (req: AnyRequest, res: AnyResponse): void => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path === TOKEN_PATH) {
      const fault = state.faults.take('token');
      if (fault === 'reset') return resetConnection(req);
      if (fault) {
        state.records.tokenRequests.push({
          at: new Date(),
          ok: false,
          reason: `injected ${fault}`,
          httpVersion: req.httpVersion,
          userAgent: req.headers['user-agent'],
        });
        state.notify();
        (res as http.ServerResponse).writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'temporarily_unavailable' }));
        return;
      }
      if (credentialsRevoked) {
        state.records.tokenRequests.push({
          at: new Date(),
          ok: false,
          reason: 'client credentials revoked',
          httpVersion: req.httpVersion,
          userAgent: req.headers['user-agent'],
        });
        state.notify();
        const body = JSON.stringify({
          error: 'invalid_client',
          error_description: 'client credentials revoked',
        });
        (res as http.ServerResponse).writeHead(401, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      handleTokenRequest(req, res, tokenExpect, state.tokens, (r) => {
        state.records.tokenRequests.push(r);
        state.notify();
      }).catch((err: unknown) => {
        if (!res.headersSent) {
          (res as http.ServerResponse).writeHead(500, { 'content-type': 'application/json' });
        }
        res.end(JSON.stringify({ error: 'server_error', error_description: String(err) }));
      });
      return;
    }
    if (path.startsWith(SERVICE_PREFIX)) {
      const method = path.slice(SERVICE_PREFIX.length) as RpcMethodName;
      const fault = state.faults.take('rpc', method);
      const info: RequestInfo = { connectionId: connectionOf(req), httpVersion: req.httpVersion, fault };
      if (fault === 'reset' || fault === 'http503') {
        state.records.calls.push({
          method,
          at: new Date(),
          httpVersion: req.httpVersion,
          connectionId: info.connectionId,
          userAgent: req.headers['user-agent'],
          code: fault === 'http503' ? 14 : -1,
          message: `injected ${fault}`,
          fault,
        });
        state.notify();
        if (fault === 'reset') return resetConnection(req);
        (res as http.ServerResponse).writeHead(503, { 'content-type': 'text/plain' });
        res.end('service unavailable (injected by the fake ConductorOne)');
        return;
      }
      requestInfo.set(req, info);
    }
    grpcHandler(req as never, res as never);
  };

  let tls: GeneratedTls | { caPem?: string; certPem: string; keyPem: string } | undefined;
  const sockets = new Set<Socket>();
  let listener: net.Server;
  if (useTls) {
    tls =
      typeof options.tls === 'object'
        ? options.tls
        : generateTls([...new Set([host, '127.0.0.1', '::1', 'localhost'])]);
    // allowHTTP1: the connector may fetch its token over HTTP/1.1 while gRPC needs HTTP/2.
    listener = http2.createSecureServer(
      { key: tls.keyPem, cert: tls.certPem, allowHTTP1: true, minVersion: 'TLSv1.2' },
      handler,
    );
  } else {
    // Plain mode: one port for h2c gRPC (prior knowledge) and HTTP/1.1 token requests. Node's
    // http2.createServer cannot fall back to HTTP/1 in cleartext, so the connection's first bytes
    // decide: the HTTP/2 preface goes to an HTTP/2 server, anything else to an HTTP/1 server.
    const h2 = http2.createServer(handler);
    const h1 = http.createServer(handler);
    listener = net.createServer((socket) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const n = Math.min(head.length, H2_PREFACE.length);
        const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
        if (isH2 && head.length < H2_PREFACE.length) return; // need more bytes to be sure
        socket.off('data', onData);
        socket.pause();
        if (isH2) {
          // Node's HTTP/2 core reads from the socket handle itself and would miss bytes put back
          // with unshift(); a stream wrapper that replays them first is read through JS instead.
          h2.emit('connection', replaying(socket, head));
        } else {
          socket.unshift(head);
          h1.emit('connection', socket);
          socket.resume();
        }
      };
      socket.on('data', onData);
    });
  }
  listener.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // A client that drops a connection mid-handshake must not take the fake down.
  listener.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const apiHost = `${hostPart}:${port}`;
  const url = `${useTls ? 'https' : 'http'}://${apiHost}`;
  const caPath = tls && 'caPath' in tls ? tls.caPath : undefined;

  const waitFor = <T>(check: () => T | undefined, what: string, opts: WaitOptions = {}): Promise<T> => {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const tryNow = (): boolean => {
        const value = check();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const onChange = () => void tryNow();
      const timer = setTimeout(() => {
        cleanup();
        const r = state.records;
        reject(
          new Error(
            `fake ConductorOne: timed out after ${timeoutMs} ms waiting for ${what} ` +
              `(seen: ${r.tokenRequests.length} token requests, ${r.hellos.length} hellos, ${r.polls.length} polls, ` +
              `${r.heartbeats.length} heartbeats, ${r.uploads.length} uploads, ${r.finishes.length} finishes; ` +
              `last calls: ${r.calls
                .slice(-5)
                .map((c) => `${c.method}=${c.code}${c.message ? ` (${c.message})` : ''}`)
                .join(', ')})`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        state.changed.off('change', onChange);
      };
      state.changed.on('change', onChange);
      tryNow();
    });
  };

  const r = state.records;
  let closed = false;
  return {
    url,
    apiHost,
    port,
    tls: useTls,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    caPath,
    caPem: tls?.caPem,
    env() {
      const env: Record<string, string> = {
        BATON_CLIENT_ID: creds.clientId,
        BATON_CLIENT_SECRET: creds.clientSecret,
        // Plain mode names the scheme: our client (src/c1/endpoint.ts) takes http:// for loopback only.
        BATON_C1_API_HOST: useTls ? apiHost : url,
      };
      if (caPath) env.NODE_EXTRA_CA_CERTS = caPath;
      return env;
    },
    tasks: state.queue,
    records: r,
    cancelAtHeartbeat(taskId, n = 1) {
      state.cancelAt.set(taskId, n);
    },
    setNextPoll(ms) {
      state.config.nextPollMs = ms;
    },
    setNextHeartbeat(ms) {
      state.config.nextHeartbeatMs = ms;
    },
    tokens: {
      setTtlSeconds(seconds) {
        state.tokens.ttlSeconds = seconds;
      },
      expireAll: () => state.tokens.expireAll(),
      revokeAll: () => state.tokens.revokeAll(),
      get issued() {
        return state.tokens.issuedCount;
      },
    },
    revokeCredentials() {
      credentialsRevoked = true;
      state.tokens.revokeAll();
    },
    faults: {
      inject: (fault) => state.faults.inject(fault),
      clear: () => state.faults.clear(),
    },
    waitFor,
    waitForHello(opts = {}) {
      const after = opts.afterCount ?? 0;
      return waitFor(() => r.hellos[after], 'an accepted Hello', opts);
    },
    waitForPolls(count, opts) {
      return waitFor(
        () => (r.polls.length >= count ? r.polls.slice(0, count) : undefined),
        `${count} polls`,
        opts,
      );
    },
    waitForHeartbeats(taskId, count, opts) {
      return waitFor(
        () => {
          const hb = r.heartbeats.filter((h) => h.taskId === taskId);
          return hb.length >= count ? hb : undefined;
        },
        `${count} heartbeats of task ${taskId}`,
        opts,
      );
    },
    waitForUpload(taskId, opts) {
      return waitFor(() => r.uploads.find((u) => u.taskId === taskId), `an upload for task ${taskId}`, opts);
    },
    waitForFinish(taskId, opts) {
      return waitFor(() => r.finishes.find((f) => f.taskId === taskId), `FinishTask of task ${taskId}`, opts);
    },
    async close() {
      if (closed) return;
      closed = true;
      state.faults.clear();
      const done = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
      if (tls && 'cleanup' in tls) tls.cleanup();
    },
  };
}
