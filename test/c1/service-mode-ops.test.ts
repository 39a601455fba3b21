import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator } from '../../src/simulator/index.js';
import { startFakeC1, type FakeC1 } from '../../src/simulator/c1/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testSimulator } from '../helpers/simulator.js';
import { logLines, startDaemon, type DaemonProcess } from './daemon-helpers.js';
import { arrange } from '../provisioning/helpers.js';

/**
 * What an operator sees of a running service: /health and /metrics, and the log lines. One
 * daemon (-p, --health-check, debug logs) against the fake ConductorOne and a Coupa simulator.
 */

let fake: FakeC1;
let sim: Simulator;
let daemon: DaemonProcess;
let healthUrl = '';
const tmp = tempDir('c1-ops-');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  fake = await startFakeC1({ tls: false, nextPollMs: 200, nextHeartbeatMs: 1000 });
  sim = await testSimulator({ tenant: { users: 30, seed: 8 } });
  const port = await freePort();
  healthUrl = `http://127.0.0.1:${port}`;
  daemon = startDaemon({
    fake,
    sim,
    cwd: tmp.dir,
    env: { BATON_C1_API_HOST: fake.url, BATON_HOST_ID: 'coupa-ops' },
    args: [
      '-p',
      '--state-dir',
      tmp.dir,
      '--max-retries',
      '0',
      '--log-level',
      'debug',
      '--health-check',
      '--health-check-port',
      String(port),
    ],
  });
  await fake.waitForHello({ timeoutMs: 30_000 });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await fake?.close();
  await sim?.close();
  tmp.cleanup();
});

const tokenRequests = () => sim.counters().byRoute['POST /oauth2/token'] ?? 0;

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in /metrics`);
  return Number(m[1]);
}

describe('service mode operations', () => {
  it('/health reuses one Coupa token across probes and counts its requests in /metrics', async () => {
    const tokensBefore = tokenRequests();
    const requestsBefore = await metric('coupa_connector_coupa_requests_total');
    const usersBefore = sim.counters().byRoute['GET /api/users'] ?? 0;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${healthUrl}/health`);
      expect(res.status, await res.text()).toBe(200);
    }
    expect(sim.counters().byRoute['GET /api/users']! - usersBefore).toBe(3);
    expect(tokenRequests() - tokensBefore).toBe(1);
    expect((await metric('coupa_connector_coupa_requests_total')) - requestsBefore).toBe(4);
  });

  it('the requests of write tasks are counted too', async () => {
    const requestsBefore = await metric('coupa_connector_coupa_requests_total');
    const simBefore = sim.counters().total;
    const user = sim.groundTruth().users.find((u) => !u.apiUser)!.id;
    const task = fake.tasks.grant({
      entitlement: { id: 'role:2:member', resource: { id: { resourceType: 'role', resource: '2' } } },
      principal: { id: { resourceType: 'user', resource: String(user) } },
    });
    expect((await fake.waitForFinish(task.id, { timeoutMs: 30_000 })).outcome).toBe('success');
    const sent = sim.counters().total - simBefore;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect((await metric('coupa_connector_coupa_requests_total')) - requestsBefore).toBe(sent);
  });

  it('every line about a task names it, from the provisioning layer and the Coupa client too', async () => {
    // Two roles held: the revoke of one, in a tenant that merges arrays, is a clear and a put-back.
    const user = sim.groundTruth().users.filter((u) => !u.apiUser)[1]!.id;
    arrange(sim, user, 'role', [1, 3]);
    const entitlement = { id: 'role:3:member', resource: { id: { resourceType: 'role', resource: '3' } } };
    const principal = { id: { resourceType: 'user', resource: String(user) } };
    const task = fake.tasks.revoke({ grant: { id: `role:3:member:user:${user}`, entitlement, principal } });
    expect((await fake.waitForFinish(task.id, { timeoutMs: 30_000 })).outcome).toBe('success');
    await fake.waitFor(
      () =>
        daemon.stderr().includes(`"task_id":"${task.id}"`) && /task finished/.test(daemon.stderr())
          ? true
          : undefined,
      'the task finished line',
    );
    const lines = logLines(daemon.stderr());
    const mine = lines.filter((l) => l.task_id === task.id);
    expect(mine.every((l) => l.task_type === 'revoke')).toBe(true);
    const messages = mine.map((l) => l.msg);
    expect(messages).toContain('tenant merges association arrays; removing by clear-then-set');
    expect(messages).toContain('provisioning change finished');
    expect(messages.filter((m) => m === 'coupa request').length).toBeGreaterThanOrEqual(3);
    // None of those lines anywhere without the task's id.
    for (const msg of [
      'provisioning change finished',
      'tenant merges association arrays; removing by clear-then-set',
    ])
      expect(lines.filter((l) => l.msg === msg && l.task_id === undefined)).toEqual([]);
    // Bound once per line, not once by the task's logger and again by the context.
    for (const raw of daemon.stderr().split('\n'))
      expect(raw.split('"task_id"').length).toBeLessThanOrEqual(2);
  });

  it('one line per event: a failed grant is one "task failed" line, the health server is announced once', async () => {
    const task = fake.tasks.grant({
      entitlement: {
        id: 'role:999999:member',
        resource: { id: { resourceType: 'role', resource: '999999' } },
      },
      principal: { id: { resourceType: 'user', resource: '12' } },
    });
    const f = await fake.waitForFinish(task.id, { timeoutMs: 30_000 });
    expect(f).toMatchObject({ outcome: 'error', nonRetryable: true });
    await fake.waitFor(
      () =>
        logLines(daemon.stderr()).some((l) => l.task_id === task.id && l.msg === 'task failed')
          ? true
          : undefined,
      'the task failed line',
    );
    const lines = logLines(daemon.stderr());
    const loud = lines.filter((l) => l.task_id === task.id && ['warn', 'error'].includes(String(l.level)));
    expect(loud.map((l) => l.msg)).toEqual(['task failed']);
    // Provisioning's own record of the failure stays below info, with or without the task's id.
    expect(lines.filter((l) => l.msg === 'provisioning change failed').map((l) => l.level)).toEqual([
      'debug',
    ]);
    expect(loud[0]).toMatchObject({ level: 'error', code: 2, nonRetryable: true });
    expect(String(loud[0]!.err)).toMatch(/role:999999:member/);
    expect(lines.filter((l) => String(l.msg).startsWith('health check server listening'))).toHaveLength(1);
  });

  it('a startup line says version, provisioning and host id; errors are in `err`, never `error`', async () => {
    const lines = logLines(daemon.stderr());
    const start = lines.find((l) => l.msg === 'service mode starting');
    expect(start).toMatchObject({ level: 'info', provisioning: true, hostId: 'coupa-ops' });
    expect(start!.version).toMatch(/^\d+\.\d+\.\d+/);
    // A failing /health logs why.
    const stop = sim.faults.add({ match: { path: '/api/users' }, kind: 'status', status: 500, times: 1 });
    expect((await fetch(`${healthUrl}/health`)).status).toBe(503);
    stop();
    await fake.waitFor(
      () => (daemon.stderr().includes('health check failed') ? true : undefined),
      'the health check failed line',
    );
    const failed = logLines(daemon.stderr()).find((l) => l.msg === 'health check failed')!;
    expect(String(failed.err)).toMatch(/500/);
    expect(logLines(daemon.stderr()).filter((l) => 'error' in l)).toEqual([]);
  });
});
