import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  BatonServiceUploadAssetRequestSchema,
  type BatonServiceUploadAssetRequest,
} from '../../src/c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import { GrantManagerServiceRevokeResponseSchema } from '../../src/c1z/gen/c1/connector/v2/grant_manager_pb.js';
import { batonClient, getToken, useFakeC1, validHello } from './helpers.js';

const TASK = 'a'.repeat(27);
type Msg = Exclude<
  MessageInitShape<typeof BatonServiceUploadAssetRequestSchema>,
  BatonServiceUploadAssetRequest
>['msg'];
const ANY = anyPack(GrantManagerServiceRevokeResponseSchema, create(GrantManagerServiceRevokeResponseSchema));

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('the call was accepted');
}

async function connected(tls = false) {
  const fake = await useFakeC1({ tls });
  const client = batonClient(fake, await getToken(fake));
  return { fake, client };
}

function upload(...msgs: Msg[]): AsyncIterable<BatonServiceUploadAssetRequest> {
  return (async function* () {
    for (const msg of msgs) yield create(BatonServiceUploadAssetRequestSchema, { msg });
  })();
}

const meta = (taskId = TASK): Msg => ({
  case: 'metadata',
  value: { hostId: 'h', taskId },
});
const data = (bytes: Uint8Array): Msg => ({
  case: 'data',
  value: { data: bytes },
});
const eof = (sha: Uint8Array): Msg => ({
  case: 'eof',
  value: { sha256Checksum: sha },
});
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

describe('fake ConductorOne: every call needs a valid bearer token', () => {
  it('no token, an unknown, an expired and a revoked token are Unauthenticated', async () => {
    const fake = await useFakeC1({ tls: false });
    const err = await rejection(batonClient(fake).getTask({ hostId: 'h' }));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/missing bearer token/);
    expect((await rejection(batonClient(fake, 'made-up').hello(validHello()))).code).toBe(
      Code.Unauthenticated,
    );

    const token = await getToken(fake);
    await batonClient(fake, token).getTask({ hostId: 'h' });
    fake.tokens.expireAll();
    const expired = await rejection(batonClient(fake, token).getTask({ hostId: 'h' }));
    expect(expired.rawMessage).toMatch(/expired/);

    const second = await getToken(fake);
    fake.tokens.revokeAll();
    const revoked = await rejection(batonClient(fake, second).heartbeat({ hostId: 'h', taskId: TASK }));
    expect(revoked.code).toBe(Code.Unauthenticated);
    expect(revoked.rawMessage).toMatch(/revoked/);
    expect(fake.records.calls.map((c) => c.code)).toEqual([16, 16, 0, 16, 16]);
  });

  it('a token issued with a short TTL stops working when it runs out', async () => {
    const fake = await useFakeC1({ tls: false, tokenTtlSeconds: 1 });
    const token = await getToken(fake);
    await batonClient(fake, token).getTask({ hostId: 'h' });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await rejection(batonClient(fake, token).getTask({ hostId: 'h' }))).code).toBe(
      Code.Unauthenticated,
    );
    fake.tokens.setTtlSeconds(3600);
    await batonClient(fake, await getToken(fake)).getTask({ hostId: 'h' });
  });
});

describe('fake ConductorOne: v0.2.58 request validation', () => {
  it('accepts a complete Hello, with or without a task id', async () => {
    const { fake, client } = await connected();
    await client.hello(validHello());
    await client.hello(validHello({ taskId: TASK }));
    expect(fake.records.hellos.map((h) => h.request.taskId)).toEqual(['', TASK]);
  });

  const badHellos: Array<[string, Parameters<typeof validHello>[0], RegExp]> = [
    ['empty host_id', { hostId: '' }, /BatonServiceHelloRequest\.host_id/],
    ['257-character host_id', { hostId: 'h'.repeat(257) }, /host_id: value length must be between 1 and 256/],
    ['short task_id', { taskId: 'abc' }, /task_id/],
    ['task_id with a dash', { taskId: 'a'.repeat(26) + '-' }, /task_id/],
    ['no build_info', { buildInfo: undefined }, /build_info: value is required/],
    ['no os_info', { osInfo: undefined }, /os_info: value is required/],
    ['no connector_metadata', { connectorMetadata: undefined }, /connector_metadata: value is required/],
    ['metadata without display name', { connectorMetadata: { displayName: '' } }, /display_name/],
    [
      'http help_url',
      { connectorMetadata: { displayName: 'x', helpUrl: 'http://example.com' } },
      /help_url.*https/,
    ],
    ['17 annotations', { annotations: Array.from({ length: 17 }, () => ANY) }, /annotations.*16/],
  ];
  it.each(badHellos)('rejects a Hello with %s', async (_what, override, message) => {
    const { fake, client } = await connected();
    const err = await rejection(client.hello(validHello(override)));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(message);
    expect(fake.records.hellos).toHaveLength(0);
  });

  it('rejects a Hello with any one build or OS string empty or over 256 characters', async () => {
    const { client } = await connected();
    const build = ['langVersion', 'package', 'packageVersion'] as const;
    const os = [
      'hostname',
      'os',
      'platform',
      'platformVersion',
      'platformFamily',
      'kernelVersion',
      'kernelArch',
      'virtualizationSystem',
    ] as const;
    const base = validHello();
    for (const field of build) {
      for (const value of ['', 'x'.repeat(257)]) {
        const err = await rejection(
          client.hello(validHello({ buildInfo: { ...base.buildInfo!, [field]: value } })),
        );
        expect(err.code, `${field}=${value.length}`).toBe(Code.InvalidArgument);
        expect(err.rawMessage).toContain('build_info.');
      }
    }
    for (const field of os) {
      for (const value of ['', 'x'.repeat(257)]) {
        const err = await rejection(
          client.hello(validHello({ osInfo: { ...base.osInfo!, [field]: value } })),
        );
        expect(err.code, `${field}=${value.length}`).toBe(Code.InvalidArgument);
        expect(err.rawMessage).toContain('os_info.');
      }
    }
    // 256 characters (not bytes) is the limit: 256 two-byte characters pass.
    await client.hello(validHello({ osInfo: { ...base.osInfo!, hostname: 'é'.repeat(256) } }));
  });

  it('rejects GetTask, Heartbeat and FinishTask with bad host or task ids', async () => {
    const { client } = await connected();
    const cases: Array<[string, Promise<unknown>, RegExp]> = [
      ['GetTask empty host', client.getTask({ hostId: '' }), /GetTaskRequest\.host_id/],
      ['Heartbeat empty task', client.heartbeat({ hostId: 'h', taskId: '' }), /HeartbeatRequest\.task_id/],
      ['Heartbeat short task', client.heartbeat({ hostId: 'h', taskId: 'x'.repeat(26) }), /task_id/],
      [
        'Heartbeat 17 annotations',
        client.heartbeat({ hostId: 'h', taskId: TASK, annotations: Array.from({ length: 17 }, () => ANY) }),
        /annotations/,
      ],
      ['Heartbeat no host', client.heartbeat({ hostId: '', taskId: TASK }), /host_id/],
      [
        'FinishTask without final_state',
        client.finishTask({ hostId: 'h', taskId: TASK, status: { code: 2 } }),
        /final_state: value is required/,
      ],
      [
        'FinishTask bad task id',
        client.finishTask({ hostId: 'h', taskId: 'nope', finalState: { case: 'success', value: {} } }),
        /FinishTaskRequest\.task_id/,
      ],
      [
        'FinishTask 17 annotations',
        client.finishTask({
          hostId: 'h',
          taskId: TASK,
          finalState: { case: 'error', value: { annotations: Array.from({ length: 17 }, () => ANY) } },
        }),
        /annotations/,
      ],
      ['GetTasks page size 0', client.getTasks({ hostId: 'h', pageSize: 0 }), /page_size/],
    ];
    for (const [what, call, message] of cases) {
      const err = await rejection(call);
      expect(err.code, what).toBe(Code.InvalidArgument);
      expect(err.rawMessage, what).toMatch(message);
    }
  });

  it('accepts an upload in order and keeps the verified bytes', async () => {
    const { fake, client } = await connected(true);
    const body = new Uint8Array(1_300_000).map((_, i) => i % 251);
    const chunks = [body.subarray(0, 524288), body.subarray(524288, 1048576), body.subarray(1048576)];
    await client.uploadAsset(upload(meta(), ...chunks.map(data), eof(sha256(body))));
    const rec = await fake.waitForUpload(TASK);
    expect(rec.bytes.equals(Buffer.from(body))).toBe(true);
    expect(rec.chunkSizes).toEqual([524288, 524288, 1_300_000 - 1048576]);
    expect(rec.sha256).toBe(Buffer.from(sha256(body)).toString('hex'));
  });

  it('rejects uploads out of order, with bad chunk sizes or a wrong checksum', async () => {
    const { fake, client } = await connected();
    const bytes = new Uint8Array([1, 2, 3]);
    const cases: Array<[string, Msg[], RegExp]> = [
      ['data first', [data(bytes), eof(sha256(bytes))], /data before metadata/],
      ['no eof', [meta(), data(bytes)], /without eof/],
      ['eof first', [eof(sha256(bytes))], /eof before metadata/],
      ['nothing', [], /without metadata/],
      ['metadata twice', [meta(), meta()], /metadata sent twice/],
      ['after eof', [meta(), data(bytes), eof(sha256(bytes)), data(bytes)], /after eof/],
      ['empty chunk', [meta(), data(new Uint8Array()), eof(sha256(new Uint8Array()))], /UploadData\.data/],
      ['chunk over 1 MiB', [meta(), data(new Uint8Array(1048577)), eof(sha256(bytes))], /1048576/],
      ['31-byte checksum', [meta(), data(bytes), eof(sha256(bytes).subarray(1))], /sha256_checksum.*32/],
      ['checksum mismatch', [meta(), data(bytes), eof(sha256(new Uint8Array([9])))], /does not match/],
      ['bad task id', [meta('short'), data(bytes), eof(sha256(bytes))], /UploadMetadata\.task_id/],
      ['empty oneof', [{ case: undefined }], /msg: value is required/],
    ];
    for (const [what, msgs, message] of cases) {
      const err = await rejection(client.uploadAsset(upload(...msgs)));
      expect(err.code, what).toBe(Code.InvalidArgument);
      expect(err.rawMessage, what).toMatch(message);
    }
    expect(fake.records.uploads).toHaveLength(0);
  });
});
