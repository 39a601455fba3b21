import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  BatonServiceUploadAssetRequestSchema,
  type BatonServiceUploadAssetRequest,
} from '../../src/c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import { GrantManagerServiceGrantResponseSchema } from '../../src/c1z/gen/c1/connector/v2/grant_manager_pb.js';
import { TASK_ID } from '../../src/simulator/c1/index.js';
import { batonClient, getToken, postToken, useFakeC1, validHello } from './helpers.js';

const run = promisify(execFile);

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('the call was accepted');
}

function uploadOf(taskId: string, bytes: Uint8Array): AsyncIterable<BatonServiceUploadAssetRequest> {
  const sha = new Uint8Array(createHash('sha256').update(bytes).digest());
  const msgs = [
    create(BatonServiceUploadAssetRequestSchema, {
      msg: { case: 'metadata', value: { hostId: 'h', taskId } },
    }),
    create(BatonServiceUploadAssetRequestSchema, { msg: { case: 'data', value: { data: bytes } } }),
    create(BatonServiceUploadAssetRequestSchema, { msg: { case: 'eof', value: { sha256Checksum: sha } } }),
  ];
  return (async function* () {
    yield* msgs;
  })();
}

describe('fake ConductorOne: TLS', () => {
  it('serves a certificate for 127.0.0.1 signed by a CA it writes to caPath', async () => {
    const fake = await useFakeC1();
    expect(fake.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(fake.caPath!, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(fake.env()).toMatchObject({
      BATON_CLIENT_ID: fake.clientId,
      BATON_CLIENT_SECRET: fake.clientSecret,
      BATON_C1_API_HOST: `127.0.0.1:${fake.port}`,
      NODE_EXTRA_CA_CERTS: fake.caPath,
    });
    // Without the CA the certificate is not trusted.
    const untrusted = await rejection(batonClient({ ...fake, caPem: undefined }).getTask({ hostId: 'h' }));
    expect(`${untrusted.message} ${String(untrusted.cause)}`).toMatch(/certificate|verify/i);
  });

  it('a separate Node process trusts it through NODE_EXTRA_CA_CERTS alone', async () => {
    const fake = await useFakeC1();
    const script = `
      const https = require('node:https');
      https.get(process.argv[1], (res) => { console.log(res.statusCode); res.resume(); })
        .on('error', (e) => { console.log('error ' + e.code); });
    `;
    const url = `${fake.url}/auth/v1/token`;
    const trusted = await run(process.execPath, ['-e', script, url], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: fake.caPath },
    });
    expect(trusted.stdout.trim()).toBe('401'); // reached the endpoint: GET is refused, TLS was fine
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const untrusted = await run(process.execPath, ['-e', script, url], { env });
    expect(untrusted.stdout.trim()).toMatch(
      /^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    );
  });

  it('removes its certificate files on close', async () => {
    const fake = await useFakeC1();
    const dir = join(fake.caPath!, '..');
    await fake.close();
    expect(existsSync(dir)).toBe(false);
  });

  it('plain mode names the scheme in BATON_C1_API_HOST (what the client needs to skip TLS)', async () => {
    const fake = await useFakeC1({ tls: false });
    expect(fake.env()).toEqual({
      BATON_CLIENT_ID: fake.clientId,
      BATON_CLIENT_SECRET: fake.clientSecret,
      BATON_C1_API_HOST: `http://127.0.0.1:${fake.port}`,
    });
  });

  it('refuses plain HTTP on a non-loopback address', async () => {
    await expect(useFakeC1({ tls: false, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });
});

describe('fake ConductorOne: tasks, heartbeats and records', () => {
  it('hands tasks out first in, first out, each once, always with next_poll', async () => {
    const fake = await useFakeC1({ tls: false, nextPollMs: 1500 });
    const client = batonClient(fake, await getToken(fake));
    const sync = fake.tasks.syncFull();
    const grant = fake.tasks.grant({
      entitlement: { id: 'role:1:assigned' },
      principal: { displayName: 'u' },
    });
    const revoke = fake.tasks.revoke({ grant: { id: 'g1' } });
    const account = fake.tasks.createAccount({ accountInfo: { login: 'new.user' } });
    const other = fake.tasks.unsupported('createTicketTask');
    for (const t of [sync, grant, revoke, account, other]) expect(t.id).toMatch(TASK_ID);
    expect(fake.tasks.state(sync.id)).toBe('queued');

    const seen = [];
    for (let i = 0; i < 6; i++) {
      const res = await client.getTask({ hostId: 'h' });
      expect(res.nextPoll?.seconds).toBe(1n);
      expect(res.nextPoll?.nanos).toBe(500_000_000);
      seen.push([res.task?.id, res.task?.taskType.case]);
    }
    expect(seen).toEqual([
      [sync.id, 'syncFull'],
      [grant.id, 'grant'],
      [revoke.id, 'revoke'],
      [account.id, 'createAccount'],
      [other.id, 'createTicketTask'],
      [undefined, undefined],
    ]);
    expect(fake.tasks.state(sync.id)).toBe('leased');
    expect(fake.records.polls.map((p) => p.taskId)).toEqual([
      sync.id,
      grant.id,
      revoke.id,
      account.id,
      other.id,
      undefined,
    ]);

    fake.setNextPoll(0);
    const idle = await client.getTask({ hostId: 'h' });
    expect(idle.nextPoll).toBeDefined(); // set even when zero is asked for: the field is present
  });

  it('GetTasks (HEAD batch polling) pages tasks, skips known ids and sets next_poll', async () => {
    const fake = await useFakeC1({ tls: false, nextPollMs: 700 });
    const client = batonClient(fake, await getToken(fake));
    const ids = [fake.tasks.syncFull().id, fake.tasks.syncFull().id, fake.tasks.syncFull().id];
    const first = await client.getTasks({ hostId: 'h', pageSize: 2 });
    expect(first.tasks.map((t) => t.id)).toEqual(ids.slice(0, 2));
    expect(first.nextPoll?.nanos).toBe(700_000_000);
    const second = await client.getTasks({ hostId: 'h', pageSize: 5, knownTaskIds: ids.slice(0, 2) });
    expect(second.tasks.map((t) => t.id)).toEqual([ids[2]]);
    expect((await client.getTasks({ hostId: 'h', pageSize: 5 })).tasks).toEqual([]);
    expect((await client.startDebugging({})).status).toBe(false);
  });

  it('can send "no task" as a none task', async () => {
    const fake = await useFakeC1({ tls: false, noTaskAs: 'none' });
    const res = await batonClient(fake, await getToken(fake)).getTask({ hostId: 'h' });
    expect(res.task?.taskType.case).toBe('none');
  });

  it('cancels a task at its nth heartbeat and records every heartbeat', async () => {
    const fake = await useFakeC1({ tls: false, nextHeartbeatMs: 250 });
    const client = batonClient(fake, await getToken(fake));
    const { id } = fake.tasks.syncFull();
    await client.getTask({ hostId: 'h' });
    fake.cancelAtHeartbeat(id, 2);
    const first = await client.heartbeat({ hostId: 'h', taskId: id });
    expect(first.cancelled).toBe(false);
    expect(Number(first.nextHeartbeat?.nanos)).toBe(250_000_000);
    expect((await client.heartbeat({ hostId: 'h', taskId: id })).cancelled).toBe(true);
    const hb = await fake.waitForHeartbeats(id, 2);
    expect(hb.map((h) => [h.n, h.cancelled])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it('records FinishTask decoded, including the response type, and saves uploads to uploadDir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-c1-uploads-'));
    try {
      const fake = await useFakeC1({ tls: false, uploadDir: dir });
      const client = batonClient(fake, await getToken(fake));
      const sync = fake.tasks.syncFull();
      const grant = fake.tasks.grant({ entitlement: { id: 'e' }, principal: {} });
      await client.getTask({ hostId: 'h' });
      await client.getTask({ hostId: 'h' });
      const c1z = Buffer.concat([Buffer.from('C1ZF\0'), Buffer.alloc(100, 7)]);
      await client.uploadAsset(uploadOf(sync.id, c1z));
      await client.uploadAsset(uploadOf(sync.id, Buffer.from('debug log line\n')));
      await client.finishTask({ hostId: 'h', taskId: sync.id, finalState: { case: 'success', value: {} } });
      await client.finishTask({
        hostId: 'h',
        taskId: grant.id,
        status: {
          code: 9,
          message:
            'rpc error: code = FailedPrecondition desc = provisioning is not enabled\ntask failed and is non-retryable',
        },
        finalState: {
          case: 'error',
          value: {
            nonRetryable: true,
            response: anyPack(
              GrantManagerServiceGrantResponseSchema,
              create(GrantManagerServiceGrantResponseSchema),
            ),
          },
        },
      });
      const s = await fake.waitForFinish(sync.id);
      expect(s).toMatchObject({ outcome: 'success', code: 0, knownTask: true, responseTypeUrl: undefined });
      const g = await fake.waitForFinish(grant.id);
      expect(g).toMatchObject({
        outcome: 'error',
        code: 9,
        nonRetryable: true,
        responseTypeUrl: 'type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse',
      });
      expect(g.message).toMatch(/non-retryable$/);
      expect(fake.tasks.state(sync.id)).toBe('finished');
      expect(readdirSync(dir).sort()).toEqual([`${sync.id}-1.c1z`, `${sync.id}-2.bin`]);
      expect(readFileSync(join(dir, `${sync.id}-1.c1z`)).equals(c1z)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queues a task again after a retryable error when requeueRetryable is set', async () => {
    const fake = await useFakeC1({ tls: false, requeueRetryable: true });
    const client = batonClient(fake, await getToken(fake));
    const t = fake.tasks.syncFull();
    await client.getTask({ hostId: 'h' });
    await client.finishTask({
      hostId: 'h',
      taskId: t.id,
      status: { code: 2, message: 'coupa down' },
      finalState: { case: 'error', value: { nonRetryable: false } },
    });
    expect(fake.tasks.state(t.id)).toBe('queued');
    expect((await client.getTask({ hostId: 'h' })).task?.id).toBe(t.id);
  });

  it('waitFor helpers time out with what they saw', async () => {
    const fake = await useFakeC1({ tls: false });
    await expect(fake.waitForFinish('x'.repeat(27), { timeoutMs: 50 })).rejects.toThrow(
      /timed out after 50 ms waiting for FinishTask of task x{27}.*0 finishes/,
    );
  });
});

describe('fake ConductorOne: a Go-shaped peer', () => {
  it('accepts GetTask before Hello, a new connection per RPC, and a server-issued hello task', async () => {
    const fake = await useFakeC1();
    const token = await getToken(fake);
    const hello = fake.tasks.hello();
    // baton v0.2.58: the first GetTask goes out before the startup Hello; every RPC dials anew.
    const polled = await batonClient(fake, token).getTask({ hostId: 'baton-coupa' });
    expect(polled.task?.taskType.case).toBe('hello');
    await batonClient(fake, token).hello(validHello({ hostId: 'baton-coupa' }));
    await batonClient(fake, token).hello(validHello({ hostId: 'baton-coupa', taskId: hello.id }));
    await batonClient(fake, token).getTask({ hostId: 'baton-coupa' });
    const calls = fake.records.calls;
    expect(calls.map((c) => c.method)).toEqual(['GetTask', 'Hello', 'Hello', 'GetTask']);
    expect(calls.every((c) => c.code === 0 && c.httpVersion === '2.0')).toBe(true);
    expect(new Set(calls.map((c) => c.connectionId)).size).toBe(4);
    expect(fake.records.hellos[1]?.request.taskId).toBe(hello.id);
  });
});

describe('fake ConductorOne: fault injection', () => {
  it('answers Unavailable to the next N calls of a method, then recovers', async () => {
    const fake = await useFakeC1({ tls: false });
    const client = batonClient(fake, await getToken(fake));
    const fault = fake.faults.inject({ kind: 'unavailable', methods: ['GetTask'], calls: 2 });
    for (let i = 0; i < 2; i++) {
      expect((await rejection(client.getTask({ hostId: 'h' }))).code).toBe(Code.Unavailable);
    }
    await client.hello(validHello()); // other methods unaffected
    await client.getTask({ hostId: 'h' });
    expect(fault.hits).toBe(2);
  });

  it('answers a bare HTTP 503 (seen as Unavailable) and 503 on the token endpoint', async () => {
    const fake = await useFakeC1({ tls: false });
    const client = batonClient(fake, await getToken(fake));
    fake.faults.inject({ kind: 'http503', target: 'rpc', calls: 1 });
    expect((await rejection(client.getTask({ hostId: 'h' }))).code).toBe(Code.Unavailable);
    await client.getTask({ hostId: 'h' });
    fake.faults.inject({ kind: 'unavailable', target: 'token', calls: 1 });
    const res = await postToken(fake, { any: 'thing' });
    expect(res.status).toBe(503);
  });

  it('resets connections for a time window', async () => {
    const fake = await useFakeC1();
    const token = await getToken(fake);
    fake.faults.inject({ kind: 'reset', forMs: 300 });
    // The client sees the stream or session die (connect reports it as Canceled or Unavailable).
    const err = await rejection(batonClient(fake, token).getTask({ hostId: 'h' }));
    expect([Code.Canceled, Code.Unavailable, Code.Internal, Code.Unknown]).toContain(err.code);
    await expect(getToken(fake)).rejects.toThrow(/socket hang up|ECONNRESET/);
    await new Promise((r) => setTimeout(r, 350));
    await batonClient(fake, token).getTask({ hostId: 'h' });
    expect(fake.records.calls.map((c) => c.fault)).toEqual(['reset', undefined]);
  });
});
