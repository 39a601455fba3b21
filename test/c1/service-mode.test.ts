import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { type Simulator } from '../../src/simulator/index.js';
import { startFakeC1, type FakeC1 } from '../../src/simulator/c1/index.js';
import {
  ConnectorCapabilitiesSchema,
  CreateAccountResponseSchema,
  GrantManagerServiceGrantResponseSchema,
} from '../../src/c1/messages.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { expectedContents, readFile } from '../sync/helpers.js';
import { logLines, startDaemon, type DaemonProcess } from './daemon-helpers.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * Issue 11, end to end: the built CLI in service mode (a real child process) against the fake
 * ConductorOne over TLS (trust via NODE_EXTRA_CA_CERTS) and the Coupa simulator. One daemon with
 * -p serves every task of this file, so it also shows the daemon keeps serving after failures.
 */

let fake: FakeC1;
let sim: Simulator;
let daemon: DaemonProcess;
const tmp = tempDir('c1-e2e-');
const c1zTemp = join(tmp.dir, 'c1z-temp');
const osTemp = join(tmp.dir, 'os-temp');

beforeAll(async () => {
  mkdirSync(c1zTemp);
  mkdirSync(osTemp);
  fake = await startFakeC1({ nextPollMs: 200, nextHeartbeatMs: 1000 });
  sim = await testSimulator({ tenant: { users: 120, seed: 11 } });
  daemon = startDaemon({
    fake,
    sim,
    cwd: tmp.dir,
    env: { TMPDIR: osTemp, BATON_HOST_ID: 'coupa-e2e' },
    args: [
      '-p',
      '--c1z-temp-dir',
      c1zTemp,
      '--max-retries',
      '0',
      '--journal',
      join(tmp.dir, 'state/journal.jsonl'),
      '--audit-log',
      join(tmp.dir, 'state/audit.jsonl'),
    ],
  });
  mkdirSync(join(tmp.dir, 'state'), { recursive: true });
  await fake.waitForHello({ timeoutMs: 30_000 });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await fake?.close();
  await sim?.close();
  tmp.cleanup();
});

const finish = (id: string) => fake.waitForFinish(id, { timeoutMs: 60_000 });

describe('service mode against the fake ConductorOne', () => {
  it('says Hello once, accepted under v0.2.58 validation, with 11 non-empty strings and our capabilities', async () => {
    const hello = fake.records.hellos[0]!.request;
    expect(fake.records.calls.filter((c) => c.method === 'Hello' && c.code !== 0)).toEqual([]);
    expect(hello.hostId).toBe('coupa-e2e');
    expect(hello.taskId).toBe('');
    const strings = [...Object.entries(hello.buildInfo ?? {}), ...Object.entries(hello.osInfo ?? {})].filter(
      ([k]) => k !== '$typeName',
    );
    expect(strings).toHaveLength(11);
    for (const [k, v] of strings) expect(v, k).toMatch(/\S/);
    expect(hello.buildInfo?.package).toBe('coupa-connector');
    expect(hello.connectorMetadata?.displayName).toBe('Coupa Connector');

    const printed = JSON.parse((await cli(['capabilities'])).stdout) as Record<string, unknown>;
    const sent = toJson(ConnectorCapabilitiesSchema, hello.connectorMetadata!.capabilities!) as Record<
      string,
      unknown
    >;
    // What `capabilities` prints, less actions: service mode has no handler for action_* tasks.
    const { '@type': _t, ...expected } = printed as { '@type': string; connectorCapabilities: string[] };
    expect(expected.connectorCapabilities).toContain('CAPABILITY_ACTIONS');
    expect(sent).toEqual({
      ...expected,
      connectorCapabilities: expected.connectorCapabilities.filter((c) => c !== 'CAPABILITY_ACTIONS'),
    });
    // The token request carried a baton-shaped assertion: aud = the client id's host, as an array.
    expect(fake.records.tokenRequests[0]?.ok).toBe(true);
    expect(fake.records.tokenRequests[0]?.assertion?.claims.aud).toEqual([
      fake.clientId.split('@')[1]!.split('/')[0],
    ]);
  });

  it('a full sync task uploads a c1z equal to the simulator ground truth, heartbeats, and leaves no temp file', async () => {
    const task = fake.tasks.syncFull();
    const done = await finish(task.id);
    expect(done.outcome, done.message).toBe('success');
    const upload = fake.records.uploads.find((u) => u.taskId === task.id)!;
    expect(upload.bytes.subarray(0, 5)).toEqual(Buffer.from('C1ZF\x00', 'latin1'));
    // 512 KiB chunks, the last one the remainder.
    expect(upload.chunkSizes.slice(0, -1).every((n) => n === 512 * 1024)).toBe(true);
    expect(upload.chunkSizes.reduce((a, b) => a + b, 0)).toBe(upload.bytes.length);
    expect(fake.records.heartbeats.filter((h) => h.taskId === task.id).length).toBeGreaterThanOrEqual(1);

    const file = join(tmp.dir, 'uploaded.c1z');
    writeFileSync(file, upload.bytes);
    const got = await readFile(file);
    const want = expectedContents(sim.groundTruth(), { accountGroups: true });
    expect(got.resources).toEqual(want.resources);
    expect(got.entitlements).toEqual(want.entitlements);
    expect(got.grantIds).toEqual(want.grantIds);
    expect(got.grantRows).toBe(want.grantIds.size);
    expect(got.dangling).toEqual([]);

    expect(readdirSync(c1zTemp)).toEqual([]);
    expect(readdirSync(osTemp)).toEqual([]);
    const lines = logLines(daemon.stderr()).filter((l) => l.task_id === task.id);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.task_type === 'full_sync')).toBe(true);
  });

  it('grant, revoke and create_account change the simulator and answer with baton response messages', async () => {
    const gt = sim.groundTruth();
    const buyers = new Set(gt.memberships.roles.filter(([, r]) => r === 4).map(([u]) => u));
    const user = gt.users.find((u) => !buyers.has(u.id) && !u.apiUser)!;
    const entitlement = { id: 'role:4:member', resource: { id: { resourceType: 'role', resource: '4' } } };
    const principal = { id: { resourceType: 'user', resource: String(user.id) } };

    const grant = fake.tasks.grant({ entitlement, principal });
    const g = await finish(grant.id);
    expect(g.outcome, g.message).toBe('success');
    expect(g.responseTypeUrl).toBe('type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse');
    const resp = anyUnpack(g.request.finalState.value!.response!, GrantManagerServiceGrantResponseSchema)!;
    expect(resp.grants.map((x) => x.id)).toEqual([`role:4:member:user:${user.id}`]);
    expect(sim.groundTruth().memberships.roles).toContainEqual([user.id, 4]);

    const revoke = fake.tasks.revoke({
      grant: { id: `role:4:member:user:${user.id}`, entitlement, principal },
    });
    const r = await finish(revoke.id);
    expect(r.outcome, r.message).toBe('success');
    expect(r.responseTypeUrl).toBe('type.googleapis.com/c1.connector.v2.GrantManagerServiceRevokeResponse');
    expect(sim.groundTruth().memberships.roles).not.toContainEqual([user.id, 4]);

    const create = fake.tasks.createAccount({
      accountInfo: {
        login: 'svc.e2e.created',
        emails: [{ address: 'svc.e2e.created@example.com', isPrimary: true }],
        profile: { first_name: 'Svc', last_name: 'Created', department: 'ignored' },
      },
    });
    const c = await finish(create.id);
    expect(c.outcome, c.message).toBe('success');
    expect(c.responseTypeUrl).toBe('type.googleapis.com/c1.connector.v2.CreateAccountResponse');
    const created = sim.tenant.users.find((u) => u.login === 'svc.e2e.created');
    expect(created).toBeDefined();
    const cr = anyUnpack(c.request.finalState.value!.response!, CreateAccountResponseSchema)!;
    expect(cr.result.case).toBe('success');
    expect(cr.result.value?.resource?.id?.resource).toBe(String(created!.id));
  });

  it('an unknown entitlement, a malformed task and an unsupported type finish as baton finishes them', async () => {
    const unknown = fake.tasks.grant({
      entitlement: {
        id: 'role:999999:member',
        resource: { id: { resourceType: 'role', resource: '999999' } },
      },
      principal: { id: { resourceType: 'user', resource: '12' } },
    });
    const u = await finish(unknown.id);
    expect(u).toMatchObject({ outcome: 'error', nonRetryable: true });
    expect(u.message).toContain('role:999999:member');
    expect(u.message).toMatch(/task failed and is non-retryable$/);

    const bogus = fake.tasks.grant({
      entitlement: { id: 'nonsense', resource: { id: { resourceType: 'widget', resource: '1' } } },
      principal: { id: { resourceType: 'user', resource: '12' } },
    });
    const b = await finish(bogus.id);
    expect(b).toMatchObject({ outcome: 'error', nonRetryable: true });
    expect(b.message).toMatch(/Unknown entitlement "nonsense"/);

    const malformed = fake.tasks.raw({ case: 'revoke', value: {} });
    const m = await finish(malformed.id);
    expect(m).toMatchObject({ outcome: 'error', nonRetryable: true });
    expect(m.message).toMatch(/malformed revoke task/);

    const unsupported = fake.tasks.unsupported();
    const x = await finish(unsupported.id);
    expect(x).toMatchObject({ outcome: 'error', code: 2, nonRetryable: false });
    expect(x.message).toMatch(/^unsupported task type/);

    const hello = fake.tasks.hello();
    await fake.waitFor(
      () => fake.records.hellos.find((h) => h.request.taskId === hello.id),
      'hello task answered',
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('a token that expires mid-run is renewed and the next tasks still succeed', async () => {
    const before = fake.records.tokenRequests.length;
    const callsBefore = fake.records.calls.length;
    fake.tokens.expireAll();
    const task = fake.tasks.syncFull();
    const done = await finish(task.id);
    expect(done.outcome, done.message).toBe('success');
    expect(fake.records.tokenRequests.length).toBeGreaterThan(before);
    expect(fake.records.tokenRequests.slice(before).every((t) => t.ok)).toBe(true);
    // The server refused the expired token at least once, and the daemon went on with a new one.
    expect(fake.records.calls.slice(callsBefore).some((c) => c.code === 16)).toBe(true);
    expect(fake.records.finishes.filter((f) => f.taskId === task.id)).toHaveLength(1);
  });

  it('ConductorOne resetting connections and answering 503: backs off 1 s then 4 s, then recovers', async () => {
    const start = fake.records.calls.length;
    fake.faults.inject({ kind: 'reset', target: 'rpc', methods: ['GetTask'], calls: 1 });
    fake.faults.inject({ kind: 'http503', target: 'rpc', methods: ['GetTask'], calls: 1 });
    const pollsBefore = fake.records.polls.length;
    await fake.waitForPolls(pollsBefore + 1, { timeoutMs: 30_000 });
    const polls = fake.records.calls.slice(start).filter((c) => c.method === 'GetTask');
    const failed = polls.filter((c) => c.fault !== undefined);
    expect(failed.map((c) => c.fault)).toEqual(['reset', 'http503']);
    const ok = polls.find((c) => c.fault === undefined && c.at > failed[1]!.at)!;
    const gap1 = failed[1]!.at.getTime() - failed[0]!.at.getTime();
    const gap2 = ok.at.getTime() - failed[1]!.at.getTime();
    expect(gap1).toBeGreaterThanOrEqual(900);
    expect(gap2).toBeGreaterThanOrEqual(3900);
    const task = fake.tasks.unsupported();
    expect((await finish(task.id)).code).toBe(2);
    expect(daemon.child.exitCode).toBeNull();
  }, 60_000);

  it('Coupa failing during a sync: a retryable FinishTask error, and the next sync succeeds', async () => {
    const remove = sim.faults.add({ match: { path: '/api/users' }, kind: 'status', status: 500 });
    const failing = fake.tasks.syncFull();
    const f = await finish(failing.id);
    remove();
    expect(f).toMatchObject({ outcome: 'error', nonRetryable: false });
    expect(f.message).toMatch(/500/);
    expect(fake.records.uploads.some((u) => u.taskId === failing.id)).toBe(false);
    const next = fake.tasks.syncFull();
    expect((await finish(next.id)).outcome).toBe('success');
    expect(readdirSync(c1zTemp)).toEqual([]);
    expect(readdirSync(osTemp)).toEqual([]);
  });

  it('SIGTERM while idle: exit 0', async () => {
    const run = await daemon.stop('SIGTERM');
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/service mode stopped/);
  });
});
