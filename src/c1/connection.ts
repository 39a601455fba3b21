import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { isLoopbackHost } from '../coupa/base-url.js';
import { registerSecret } from '../secrets.js';
import type { C1Endpoint } from './endpoint.js';
import { C1EndpointError } from './errors.js';

/**
 * Raw connections to ConductorOne, direct or through an HTTPS_PROXY CONNECT tunnel, shared by the
 * token request (HTTP/1.1) and the gRPC transport (HTTP/2). Both Node clients want a socket back
 * synchronously while a tunnel takes a round trip to open, so a tunnelled connection starts as a
 * stream that buffers writes until the proxy has said yes.
 */

export interface ConnectionOptions {
  secureContext: tls.SecureContext;
  /** From proxyFor(); undefined = direct. */
  proxy?: URL;
  /** ALPN offer: ['h2'] for gRPC, ['http/1.1'] for the token request. */
  alpn: string[];
}

/** HTTPS_PROXY (or https_proxy) unless NO_PROXY exempts the host; loopback is never proxied, as in Go. */
export function proxyFor(ep: C1Endpoint, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (isLoopbackHost(ep.hostname)) return undefined;
  const raw = (
    ep.scheme === 'https' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy)
  )?.trim();
  if (!raw) return undefined;
  if (noProxyMatches(ep, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new C1EndpointError(
      'HTTPS_PROXY is not a URL.',
      'Use http://proxy.example.com:3128 (user:password@ allowed).',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new C1EndpointError(
      `HTTPS_PROXY uses ${url.protocol.slice(0, -1)}; only http:// and https:// proxies (CONNECT) are supported.`,
    );
  }
  if (url.password) registerSecret(decodeURIComponent(url.password));
  return url;
}

function noProxyMatches(ep: C1Endpoint, list: string): boolean {
  const host = ep.hostname.toLowerCase();
  for (let entry of list.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let port: number | undefined;
    const m = /^\[(.+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    if (m) {
      entry = m[1]!;
      port = Number(m[2]);
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (port !== undefined && port !== ep.port) continue;
    const bare = entry.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/** A socket to the endpoint: TLS (SNI, our trust store) for https, plain TCP for loopback http. */
export function openConnection(ep: C1Endpoint, opts: ConnectionOptions): Duplex {
  const servername = isIP(ep.hostname) ? undefined : ep.hostname;
  if (!opts.proxy) {
    if (ep.scheme === 'http') return netConnect(ep.port, ep.hostname);
    return tls.connect({
      host: ep.hostname,
      port: ep.port,
      servername,
      secureContext: opts.secureContext,
      ALPNProtocols: opts.alpn,
    });
  }
  const raw = new DeferredDuplex();
  openTunnel(opts.proxy, ep, opts.secureContext).then(
    ({ socket, head }) => raw.attach(socket, head),
    (err: unknown) => raw.destroy(err as Error),
  );
  if (ep.scheme === 'http') return raw;
  return tls.connect({
    socket: raw,
    servername,
    secureContext: opts.secureContext,
    ALPNProtocols: opts.alpn,
  });
}

export class ProxyTunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

function openTunnel(
  proxy: URL,
  ep: C1Endpoint,
  secureContext: tls.SecureContext,
): Promise<{ socket: Duplex; head: Buffer }> {
  const target = `${ep.hostname.includes(':') ? `[${ep.hostname}]` : ep.hostname}:${ep.port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username || proxy.password) {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    registerSecret(basic);
    headers['proxy-authorization'] = `Basic ${basic}`;
  }
  const request = proxy.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port ? Number(proxy.port) : proxy.protocol === 'https:' ? 443 : 80,
      method: 'CONNECT',
      path: target,
      headers,
      ...(proxy.protocol === 'https:' ? { secureContext } : {}),
    });
    const timer = setTimeout(
      () => req.destroy(new ProxyTunnelError(`proxy ${proxy.host} did not answer CONNECT within 30 s`)),
      30_000,
    );
    req.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new ProxyTunnelError(`proxy ${proxy.host} refused CONNECT ${target}: HTTP ${res.statusCode}`));
        return;
      }
      resolve({ socket, head });
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(new ProxyTunnelError(`proxy ${proxy.host} unreachable: ${err.message}`));
    });
    req.end();
  });
}

/** A duplex whose far end (the tunnel socket) arrives later; writes wait in order until then. */
class DeferredDuplex extends Duplex {
  private socket?: Duplex;
  private queued: Array<{ chunk: Buffer; cb: (err?: Error | null) => void }> = [];
  private endRequested?: () => void;

  attach(socket: Duplex, head: Buffer): void {
    if (this.destroyed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    if (head.length > 0) this.push(head);
    socket.on('data', (d: Buffer) => {
      if (!this.push(d)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
    for (const q of this.queued) socket.write(q.chunk, q.cb);
    this.queued = [];
    if (this.endRequested) socket.end(this.endRequested);
  }

  override _read(): void {
    this.socket?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket) this.socket.write(chunk, cb);
    else this.queued.push({ chunk, cb });
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.socket) this.socket.end(() => cb());
    else this.endRequested = () => cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket?.destroy();
    for (const q of this.queued) q.cb(err ?? new Error('connection closed'));
    this.queued = [];
    cb(err);
  }
}
