import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator } from '../../src/simulator/index.js';
import { startFakeC1, type FakeC1 } from '../../src/simulator/c1/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testSimulator } from '../helpers/simulator.js';
import { startDaemon, type DaemonProcess } from './daemon-helpers.js';

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
});
