import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFakeC1, type FakeC1 } from '../../src/simulator/c1/index.js';
import { fullSyncHandler } from '../../src/c1/handlers/full-sync.js';
import { createAccountHandler } from '../../src/c1/handlers/provisioning.js';
import { pause } from '../../src/c1/backoff.js';
import { Capability } from '../../src/c1/messages.js';
import { C1AuthError } from '../../src/c1/errors.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startInProcessDaemon, type InProcessDaemon } from './in-process-daemon.js';

/**
 * The task loop between tasks: what it tells ConductorOne, counts and logs when a step fails. The
 * loop runs in this process against the fake ConductorOne; handlers are the real ones or stubs.
 */

const tmp = tempDir('c1-loop-');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => tmp.cleanup());

async function setup(
  fakeOpts: Parameters<typeof startFakeC1>[0] = {},
  daemonOpts: Omit<Parameters<typeof startInProcessDaemon>[0], 'fake'> = {},
): Promise<{ fake: FakeC1; d: InProcessDaemon }> {
  const fake = await startFakeC1({ tls: false, nextPollMs: 200, nextHeartbeatMs: 1000, ...fakeOpts });
  cleanups.push(() => fake.close());
  const d = startInProcessDaemon({ fake, ...daemonOpts });
  cleanups.push(() => d.stop());
  await fake.waitForHello();
  return { fake, d };
}

const forTask = (id: string) => (l: Record<string, unknown>) => l.task_id === id;

describe('the task loop', () => {
  it('a stop while the startup Hello is being retried ends the loop with "service mode stopped"', async () => {
    const fake = await startFakeC1({ tls: false });
    cleanups.push(() => fake.close());
    fake.faults.inject({ kind: 'unavailable', target: 'token' });
    const d = startInProcessDaemon({ fake });
    cleanups.push(() => d.stop());
    const retry = await d.waitForLog((l) => l.msg === 'ConductorOne Hello failed; retrying');
    expect(retry.retryInSeconds).toBe(1);
    await d.stop();
    expect(d.logs().at(-1)).toMatchObject({ level: 'info', msg: 'service mode stopped' });
    expect(fake.records.hellos).toHaveLength(0);
  });

  it('credentials revoked mid-run (the token endpoint refuses a fresh token): the loop ends with C1AuthError, exit 3', async () => {
    const { fake, d } = await setup();
    await fake.waitForPolls(1);
    fake.revokeCredentials();
    const err = await d.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(C1AuthError);
    expect((err as C1AuthError).exitCode).toBe(3);
    expect((err as Error).message).toMatch(/HTTP 401 \(invalid_client: client credentials revoked\)/);
    // One fresh token was asked for, and the loop did not back off to try again.
    expect(fake.records.tokenRequests.filter((t) => !t.ok)).toHaveLength(1);
    expect(d.logs().map((l) => l.msg)).not.toContain('polling ConductorOne for a task failed; backing off');
  });

  it('a token endpoint that fails for a while (503) only makes the loop back off, and it recovers', async () => {
    const { fake, d } = await setup();
    await fake.waitForPolls(1);
    fake.faults.inject({ kind: 'unavailable', target: 'token', calls: 2 });
    fake.tokens.revokeAll();
    await d.waitForLog((l) => l.msg === 'ConductorOne reachable again', 15_000);
    const backoffs = d.logs().filter((l) => l.msg === 'polling ConductorOne for a task failed; backing off');
    expect(backoffs.map((l) => l.retryInSeconds)).toEqual([1, 4]);
    const task = fake.tasks.grant({
      entitlement: { id: 'role:1:member', resource: { id: { resourceType: 'role', resource: '1' } } },
      principal: { id: { resourceType: 'user', resource: '1' } },
    });
    expect((await fake.waitForFinish(task.id)).outcome).toBe('error');
  }, 30_000);

  it('a sync whose temp folder cannot be made: an actionable error, and no heartbeat after FinishTask', async () => {
    const missing = join(tmp.dir, 'removed-after-start');
    const { fake } = await setup(
      {},
      {
        handlers: {
          syncFull: fullSyncHandler({
            coupaClient: () => {
              throw new Error('no sync may start without its temp folder');
            },
            tempDir: missing,
          }),
        },
      },
    );
    const task = fake.tasks.syncFull();
    const f = await fake.waitForFinish(task.id);
    const beats = fake.records.heartbeats.filter((h) => h.taskId === task.id).length;
    // The server asks for a heartbeat every second: three intervals without one show they stopped.
    await pause(3000);
    expect(fake.records.heartbeats.filter((h) => h.taskId === task.id).length).toBe(beats);
    expect(f).toMatchObject({ outcome: 'error', nonRetryable: false });
    expect(f.message).toContain(missing);
    expect(f.message).toMatch(/ENOENT/);
    expect(f.message).toMatch(/BATON_C1Z_TEMP_DIR/);
  });

  it('a FinishTask that fails is counted as finish_failed, not success, and the task is not logged as finished', async () => {
    const { fake, d } = await setup({}, { handlers: { grant: () => Promise.resolve({}) } });
    fake.faults.inject({ kind: 'unavailable', target: 'rpc', methods: ['FinishTask'], calls: 1 });
    const task = fake.tasks.grant({
      entitlement: { id: 'role:1:member', resource: { id: { resourceType: 'role', resource: '1' } } },
      principal: { id: { resourceType: 'user', resource: '1' } },
    });
    await d.waitForLog(
      (l) => forTask(task.id)(l) && l.msg === 'FinishTask failed; ConductorOne will time the task out',
    );
    // Let the loop record the outcome.
    await pause(100);
    const metrics = await d.metrics.text();
    expect(metrics).toMatch(/coupa_connector_tasks_total\{type="grant",outcome="finish_failed"\} 1/);
    expect(metrics).not.toMatch(/outcome="success"/);
    expect(
      d
        .logs()
        .filter(forTask(task.id))
        .map((l) => l.msg),
    ).not.toContain('task finished');
    // The next task finishes normally.
    const next = fake.tasks.grant({
      entitlement: { id: 'role:1:member', resource: { id: { resourceType: 'role', resource: '1' } } },
      principal: { id: { resourceType: 'user', resource: '2' } },
    });
    expect((await fake.waitForFinish(next.id)).outcome).toBe('success');
  });

  it('a create_account task without names is refused in words for ConductorOne, not the CLI flags', async () => {
    const { fake } = await setup(
      {},
      {
        handlers: {
          createAccount: createAccountHandler(() => {
            throw new Error('validation comes first: Coupa is not asked');
          }),
        },
      },
    );
    const task = fake.tasks.createAccount({
      accountInfo: {
        login: 'ada',
        emails: [{ address: 'ada@example.com' }],
        profile: { sso_identifier: 'ada' },
      },
    });
    const f = await fake.waitForFinish(task.id);
    expect(f).toMatchObject({ outcome: 'error', code: 2, nonRetryable: true });
    expect(f.message).toBe(
      'The account profile must give firstname and lastname (Coupa requires both).\ntask failed and is non-retryable',
    );
  });

  it('Hello does not advertise actions, which the loop cannot run', async () => {
    const { fake } = await setup();
    const caps = fake.records.hellos[0]!.request.connectorMetadata!.capabilities!;
    expect(caps.connectorCapabilities).toEqual([
      Capability.PROVISION,
      Capability.SYNC,
      Capability.ACCOUNT_PROVISIONING,
    ]);
    // baton-sdk's number for CAPABILITY_ACTIONS, newer than v0.2.58's enum.
    expect(caps.resourceTypeCapabilities.flatMap((r) => r.capabilities)).not.toContain(10);
  });

  it('a task type it does not run, handed out again and again, is not polled for in a hot loop', async () => {
    // ConductorOne puts a retryable failure back in the queue at once.
    const { fake } = await setup({ requeueRetryable: true });
    const task = fake.tasks.raw({ case: 'actionInvoke', value: { name: 'enable_user' } });
    await fake.waitForFinish(task.id);
    await pause(3000);
    const finishes = fake.records.finishes.filter((f) => f.taskId === task.id);
    expect(finishes[0]).toMatchObject({ code: 2, nonRetryable: false });
    expect(finishes[0]!.message).toMatch(/^unsupported task type: action_invoke/);
    // 50 ms between them before: some 50 FinishTasks in 3 s.
    expect(finishes.length).toBeLessThanOrEqual(3);
  });
});
