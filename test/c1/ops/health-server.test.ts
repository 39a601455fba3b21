import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createServiceMetrics,
  HealthServerError,
  startHealthServer,
  type HealthCheck,
  type HealthServer,
} from '../../../src/c1/ops/index.js';
import { forgetSecrets, registerSecret } from '../../../src/secrets.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  forgetSecrets();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: { ready?: () => boolean; check?: HealthCheck; timeoutMs?: number } = {}) {
  const metrics = createServiceMetrics();
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    isReady: opts.ready ?? (() => false),
    checkHealth: opts.check ?? (async () => {}),
    healthTimeoutMs: opts.timeoutMs,
  });
  servers.push(server);
  return { server, metrics };
}

async function get(server: HealthServer, path: string, method = 'GET') {
  const res = await fetch(server.url + path, { method });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

describe('health server', () => {
  it('listens on the loopback address and port it was given', async () => {
    const { server } = await start();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('/live is always 200 alive', async () => {
    const { server } = await start({ check: () => Promise.reject(new Error('Coupa down')) });
    const res = await get(server, '/live');
    expect(res.status).toBe(200);
    expect(res.type).toContain('application/json');
    expect(JSON.parse(res.text)).toEqual({ status: 'alive' });
  });

  it('/ready follows isReady: 503 not_ready before Hello, 200 ready after', async () => {
    let ready = false;
    const { server } = await start({ ready: () => ready });
    const before = await get(server, '/ready');
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toEqual({ status: 'not_ready' });
    ready = true;
    const after = await get(server, '/ready');
    expect(after.status).toBe(200);
    expect(JSON.parse(after.text)).toEqual({ status: 'ready' });
  });

  it('/health is 200 healthy with an RFC 3339 timestamp when the check passes', async () => {
    let calls = 0;
    const { server } = await start({
      check: async () => {
        calls++;
      },
    });
    const res = await get(server, '/health');
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { status: string; timestamp: string };
    expect(body.status).toBe('healthy');
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(calls).toBe(1);
  });

  it('/health is 503 unhealthy with the reason, secrets scrubbed, when the check fails', async () => {
    registerSecret('s3cr3t-coupa-value');
    const { server } = await start({
      check: () => Promise.reject(new Error('token request refused for s3cr3t-coupa-value')),
    });
    const res = await get(server, '/health');
    expect(res.status).toBe(503);
    const body = JSON.parse(res.text) as { status: string; error: string; timestamp: string };
    expect(body.status).toBe('unhealthy');
    expect(body.error).toContain('token request refused');
    expect(res.text).not.toContain('s3cr3t-coupa-value');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('/health gives up after the timeout and aborts the check', async () => {
    let aborted = false;
    const { server } = await start({
      timeoutMs: 200,
      check: (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => (aborted = true));
        }),
    });
    const res = await get(server, '/health');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).error).toMatch(/did not finish within 0.2 s/);
    expect(aborted).toBe(true);
  });

  it('/health probes that arrive together share one check', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { server } = await start({
      check: async () => {
        calls++;
        await gate;
      },
    });
    const pending = Promise.all([get(server, '/health'), get(server, '/health'), get(server, '/health')]);
    await new Promise((r) => setTimeout(r, 100));
    release();
    const results = await pending;
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(calls).toBe(1);
    await get(server, '/health');
    expect(calls).toBe(2);
  });

  it('answers HEAD without a body, 405 for other methods and 404 for unknown paths', async () => {
    const { server } = await start({ ready: () => true });
    const head = await get(server, '/ready', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const post = await get(server, '/live', 'POST');
    expect(post.status).toBe(405);
    const missing = await get(server, '/healthz');
    expect(missing.status).toBe(404);
    const query = await get(server, '/live?verbose=1');
    expect(query.status).toBe(200);
  });

  it('/metrics serves Prometheus text from its own registry', async () => {
    const { server, metrics } = await start();
    metrics.recordTask('full_sync', 'success');
    const res = await get(server, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.text).toContain('coupa_connector_tasks_total{type="full_sync",outcome="success"} 1');
    expect(res.text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('refuses to start on a port in use, with a hint that names the flag', async () => {
    const { server } = await start();
    const err = await startHealthServer({
      host: '127.0.0.1',
      port: server.port,
      metrics: createServiceMetrics({ defaultMetrics: false }),
      isReady: () => true,
      checkHealth: async () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HealthServerError);
    expect((err as HealthServerError).message).toContain(`127.0.0.1:${server.port}`);
    expect((err as HealthServerError).hint).toContain('--health-check-port');
  });

  it('close() returns even while a client holds a keep-alive connection', async () => {
    const { server } = await start();
    // A raw keep-alive request: the socket stays open after the answer, as a scraper's would.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(server.url + '/live', { agent: new Agent({ keepAlive: true }) }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await server.close();
    await expect(fetch(server.url + '/live')).rejects.toThrow();
  });
});
