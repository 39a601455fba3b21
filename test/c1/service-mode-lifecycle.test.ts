import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Simulator } from '../../src/simulator/index.js';
import { startFakeC1 } from '../../src/simulator/c1/index.js';
import { cli, simulatorFlags } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startDaemon, type DaemonProcess } from './daemon-helpers.js';
import { testCredentials } from './keys.js';
import { testSimulator, SLOW_SIMULATOR } from '../helpers/simulator.js';

/**
 * Issue 11, end to end: how a service-mode process starts, refuses and stops. Each test runs its
 * own daemon (built CLI, real child process) against the fake ConductorOne and a Coupa simulator.
 */

const tmp = tempDir('c1-life-');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => tmp.cleanup());

async function setup(opts: { slow?: boolean; tls?: boolean } = {}) {
  const fake = await startFakeC1({ nextPollMs: 200, nextHeartbeatMs: 1000, tls: opts.tls ?? true });
  cleanups.push(() => fake.close());
  const sim: Simulator = await testSimulator(opts.slow ? SLOW_SIMULATOR : { tenant: { users: 40, seed: 5 } });
  cleanups.push(() => sim.close());
  const dir = join(tmp.dir, `run-${cleanups.length}`);
  const c1zTemp = join(dir, 'c1z-temp');
  const osTemp = join(dir, 'os-temp');
  mkdirSync(c1zTemp, { recursive: true });
  mkdirSync(osTemp, { recursive: true });
  return { fake, sim, dir, c1zTemp, osTemp };
}

function track(d: DaemonProcess): DaemonProcess {
  cleanups.push(() => d.stop('SIGKILL'));
  return d;
}

describe('service mode lifecycle', () => {
  it('without -p every write task finishes with code 9, non-retryable (over plain http to loopback)', async () => {
    const { fake, sim, dir } = await setup({ tls: false });
    // Plain http needs the scheme spelled out: a bare host[:port] always means TLS.
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    const d = track(startDaemon({ fake, sim, cwd: dir, env: { BATON_C1_API_HOST: fake.url } }));
    await fake.waitForHello({ timeoutMs: 30_000 });
    const ent = { id: 'role:4:member', resource: { id: { resourceType: 'role', resource: '4' } } };
    const principal = { id: { resourceType: 'user', resource: '12' } };
    const tasks = [
      fake.tasks.grant({ entitlement: ent, principal }),
      fake.tasks.revoke({ grant: { id: 'role:4:member:user:12', entitlement: ent, principal } }),
      fake.tasks.createAccount({ accountInfo: { login: 'x', emails: [{ address: 'x@example.com' }] } }),
    ];
    const before = JSON.stringify(sim.groundTruth().memberships);
    for (const t of tasks) {
      const f = await fake.waitForFinish(t.id, { timeoutMs: 30_000 });
      expect(f).toMatchObject({
        outcome: 'error',
        code: 9,
        nonRetryable: true,
        message:
          'rpc error: code = FailedPrecondition desc = provisioning is not enabled\ntask failed and is non-retryable',
      });
    }
    expect(JSON.stringify(sim.groundTruth().memberships)).toBe(before);
    expect(sim.tenant.users.find((u) => u.login === 'x')).toBeUndefined();
    expect((await d.stop('SIGINT')).code).toBe(0);
  });

  it('a wrong client secret: one clear line at startup, exit 3, the secret not echoed', async () => {
    const { fake, sim, dir } = await setup();
    const wrong = testCredentials().clientSecret;
    const run = await cli([...simulatorFlags(sim), '--log-level', 'debug'], {
      cwd: dir,
      env: { ...fake.env(), BATON_CLIENT_SECRET: wrong },
      timeoutMs: 30_000,
    });
    expect(run.code, run.stderr).toBe(3);
    // The startup line (version, host id), then the refusal; nothing else above debug.
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('"level":"debug"'));
    expect(lines[0]).toMatch(/"msg":"service mode starting"/);
    lines.shift();
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^coupa-connector: ConductorOne token request to https:\/\/127\.0\.0\.1:\d+\/auth\/v1\/token failed: HTTP 401/,
    );
    expect(lines[0]).toMatch(/BATON_CLIENT_SECRET/);
    expect(run.stderr).not.toContain(wrong.slice(34));
    expect(fake.records.hellos).toHaveLength(0);
  });

  it('credentials revoked while running: the process ends with exit 3 and one error line', async () => {
    const { fake, sim, dir } = await setup({ tls: false });
    const d = track(startDaemon({ fake, sim, cwd: dir, env: { BATON_C1_API_HOST: fake.url } }));
    await fake.waitForHello({ timeoutMs: 30_000 });
    await fake.waitForPolls(1, { timeoutMs: 30_000 });
    const before = d.stderr().length;
    fake.revokeCredentials();
    const run = await Promise.race([
      d.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running:\n${d.stderr().slice(-2000)}`)), 30_000),
      ),
    ]);
    expect(run.code, run.stderr.slice(-2000)).toBe(3);
    // After the revocation: one line at error level (the process's last), whatever its format.
    const errors = run.stderr
      .slice(before)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .filter((l) => !l.startsWith('{') || /"level":"(error|fatal)"/.test(l));
    expect(errors, run.stderr.slice(before)).toHaveLength(1);
    expect(errors[0]).toMatch(
      /ConductorOne token request .* HTTP 401 \(invalid_client: client credentials revoked\)/,
    );
    expect(errors[0]).toMatch(/BATON_CLIENT_SECRET/);
  });

  it('SIGINT while the startup Hello is being retried: exit 0 and "service mode stopped"', async () => {
    const { fake, sim, dir } = await setup({ tls: false });
    fake.faults.inject({ kind: 'unavailable', target: 'token' });
    const d = track(startDaemon({ fake, sim, cwd: dir, env: { BATON_C1_API_HOST: fake.url } }));
    await fake.waitFor(
      () => (d.stderr().includes('ConductorOne Hello failed; retrying') ? true : undefined),
      'a Hello retry',
      { timeoutMs: 30_000 },
    );
    const run = await d.stop('SIGINT');
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/"msg":"service mode stopped"/);
  });

  it('a malformed client secret or a lone client id: a usage error (exit 2) before any connection', async () => {
    const { fake, sim, dir } = await setup();
    const bad = await cli(simulatorFlags(sim), {
      cwd: dir,
      env: { ...fake.env(), BATON_CLIENT_SECRET: 'secret-token:conductorone.com:v1:not-a-key' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid ConductorOne client secret/);
    const lone = await cli([...simulatorFlags(sim), '--client-id', fake.clientId], { cwd: dir });
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/--client-secret \(BATON_CLIENT_SECRET\) is required in service mode/);
    expect(fake.records.tokenRequests).toHaveLength(0);
  });

  it('a heartbeat answering cancelled aborts the sync: retryable Canceled, no upload, no temp file', async () => {
    const { fake, sim, dir, c1zTemp, osTemp } = await setup({ slow: true });
    const d = track(
      startDaemon({ fake, sim, cwd: dir, env: { TMPDIR: osTemp }, args: ['--c1z-temp-dir', c1zTemp] }),
    );
    await fake.waitForHello({ timeoutMs: 30_000 });
    const task = fake.tasks.syncFull();
    fake.cancelAtHeartbeat(task.id, 2);
    const f = await fake.waitForFinish(task.id, { timeoutMs: 30_000 });
    expect(f).toMatchObject({ outcome: 'error', code: 1, nonRetryable: false });
    expect(f.message).toMatch(/cancelled/);
    expect(fake.records.uploads.filter((u) => u.taskId === task.id)).toEqual([]);
    expect(fake.records.heartbeats.filter((h) => h.taskId === task.id).length).toBe(2);
    // Still serving.
    const next = fake.tasks.unsupported();
    expect((await fake.waitForFinish(next.id, { timeoutMs: 30_000 })).code).toBe(2);
    expect(readdirSync(c1zTemp)).toEqual([]);
    expect(readdirSync(osTemp)).toEqual([]);
    expect((await d.stop()).code).toBe(0);
  }, 60_000);

  it('SIGTERM mid-sync: the sync is handed back (retryable) after the grace period, exit 0, no temp file', async () => {
    const { fake, sim, dir, c1zTemp, osTemp } = await setup({ slow: true });
    const d = track(
      startDaemon({
        fake,
        sim,
        cwd: dir,
        env: { TMPDIR: osTemp },
        args: ['--c1z-temp-dir', c1zTemp, '--shutdown-timeout', '500ms'],
      }),
    );
    await fake.waitForHello({ timeoutMs: 30_000 });
    const task = fake.tasks.syncFull();
    await fake.waitForHeartbeats(task.id, 1, { timeoutMs: 30_000 });
    // The sync is under way: its temp folder exists.
    await fake.waitFor(() => (readdirSync(c1zTemp).length > 0 ? true : undefined), 'the sync temp folder', {
      timeoutMs: 10_000,
    });
    const polls = fake.records.polls.length;
    const run = await d.stop('SIGTERM');
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const f = fake.records.finishes.find((x) => x.taskId === task.id)!;
    expect(f).toMatchObject({ outcome: 'error', code: 1, nonRetryable: false });
    expect(f.message).toMatch(/shutting down/);
    expect(fake.records.polls.length).toBeLessThanOrEqual(polls + 1);
    expect(readdirSync(c1zTemp)).toEqual([]);
    expect(readdirSync(osTemp)).toEqual([]);
  }, 60_000);
});
