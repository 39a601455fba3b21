import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { startFakeC1, type FakeC1 } from '../../src/simulator/c1/index.js';
import { generateTls, type GeneratedTls } from '../../src/simulator/c1/tls.js';
import { C1Client } from '../../src/c1/client.js';
import { parseCredentials } from '../../src/c1/credentials.js';
import { BatonServiceHelloRequestSchema } from '../../src/c1/messages.js';
import { buildInfo, osInfo } from '../../src/c1/build-info.js';
import { connectorMetadata } from '../../src/c1/metadata.js';

/**
 * HTTPS_PROXY: the token request and the HTTP/2 gRPC connection both go through an HTTP CONNECT
 * tunnel. The fake ConductorOne poses as `c1.test` (a name only the test proxy resolves), so a
 * connection that skipped the proxy could not reach it at all.
 */
let fake: FakeC1;
let tls: GeneratedTls;
let proxy: Server;
let proxyPort = 0;
const connects: Array<{ target: string; auth?: string }> = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  tls = generateTls(['c1.test', '127.0.0.1']);
  fake = await startFakeC1({ tls: { certPem: tls.certPem, keyPem: tls.keyPem, caPem: tls.caPem } });
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    const [host, port] = (req.url ?? '').split(':');
    if (host !== 'c1.test') {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyPort = (proxy.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => proxy.close(() => r()));
  await fake.close();
  tls.cleanup();
});

function client(env: Record<string, string>): C1Client {
  return new C1Client({
    creds: parseCredentials(fake.clientId, fake.clientSecret),
    ca: tls.caPem,
    env: { BATON_C1_API_HOST: `c1.test:${fake.port}`, BATON_HOST_ID: 'proxy-test', ...env },
  });
}

const hello = () =>
  create(BatonServiceHelloRequestSchema, {
    buildInfo: buildInfo(),
    osInfo: osInfo(),
    connectorMetadata: connectorMetadata(),
  });

describe('HTTPS_PROXY', () => {
  it('tunnels the token request and the gRPC connection through CONNECT, with proxy credentials', async () => {
    const c = client({ HTTPS_PROXY: `http://user:p%40ss@127.0.0.1:${proxyPort}` });
    try {
      await c.hello(hello());
      const polled = await c.getTask();
      expect(polled.task).toBeUndefined();
      expect(polled.nextPollMs).toBeGreaterThan(0);
    } finally {
      c.close();
    }
    expect(fake.records.hellos.at(-1)?.request.hostId).toBe('proxy-test');
    // One tunnel for the token request (HTTP/1.1), one for the HTTP/2 connection.
    expect(connects.length).toBeGreaterThanOrEqual(2);
    expect(connects.every((x) => x.target === `c1.test:${fake.port}`)).toBe(true);
    expect(connects[0]!.auth).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('NO_PROXY exempts the host: then c1.test cannot be resolved, proving the proxy was skipped', async () => {
    const before = connects.length;
    const c = client({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'example.com,.test' });
    try {
      await expect(c.hello(hello())).rejects.toThrow(/unreachable|ENOTFOUND|EAI_AGAIN/);
    } finally {
      c.close();
    }
    expect(connects.length).toBe(before);
  });

  it('a proxy that refuses CONNECT is reported as such', async () => {
    const c = new C1Client({
      creds: parseCredentials(fake.clientId, fake.clientSecret),
      ca: tls.caPem,
      env: { BATON_C1_API_HOST: `elsewhere.test:443`, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` },
    });
    try {
      await expect(c.hello(hello())).rejects.toThrow(/refused CONNECT elsewhere\.test:443: HTTP 502/);
    } finally {
      c.close();
    }
  });
});
