import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import {
  BatonServiceUploadAssetRequestSchema,
  type BatonServiceUploadAssetRequest,
} from '../../src/c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import type { FakeC1 } from '../../src/simulator/c1/index.js';
import { cleanEnv, cliBin, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { batonClient, getToken } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function upload(taskId: string, bytes: Buffer): AsyncIterable<BatonServiceUploadAssetRequest> {
  const sha = createHash('sha256').update(bytes).digest();
  return (async function* () {
    yield create(BatonServiceUploadAssetRequestSchema, {
      msg: { case: 'metadata', value: { hostId: 'h', taskId } },
    });
    yield create(BatonServiceUploadAssetRequestSchema, { msg: { case: 'data', value: { data: bytes } } });
    yield create(BatonServiceUploadAssetRequestSchema, {
      msg: { case: 'eof', value: { sha256Checksum: sha } },
    });
  })();
}

describe('coupa-connector simulate-c1', () => {
  it('prints the connector environment, queues syncs, saves uploads, logs what it sees and stops cleanly', async () => {
    const tmp = tempDir('fake-c1-cli-');
    cleanups.push(tmp.cleanup);
    const uploads = join(tmp.dir, 'uploads');
    const child = spawn(
      process.execPath,
      [cliBin(), 'simulate-c1', '--sync-every', '60s', '--upload-dir', uploads],
      {
        cwd: ROOT,
        env: cleanEnv(),
      },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    const waitOut = (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in output:\n${stdout}`)), 30_000);
        const check = () => {
          const m = re.exec(stdout);
          if (!m) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve(m);
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));

    await waitOut(/Press Ctrl-C to stop/);
    const env: Record<string, string> = {};
    for (const m of stdout.matchAll(/export (\w+)='([^']*)'/g)) env[m[1]!] = m[2]!;
    expect(Object.keys(env).sort()).toEqual([
      'BATON_C1_API_HOST',
      'BATON_CLIENT_ID',
      'BATON_CLIENT_SECRET',
      'NODE_EXTRA_CA_CERTS',
    ]);
    const taskId = (await waitOut(/queued full-sync task (\w{27})/))[1]!;

    const fake = {
      url: `https://${env.BATON_C1_API_HOST}`,
      tls: true,
      caPem: readFileSync(env.NODE_EXTRA_CA_CERTS!, 'utf8'),
      clientId: env.BATON_CLIENT_ID!,
      clientSecret: env.BATON_CLIENT_SECRET!,
    } as FakeC1;
    const client = batonClient(fake, await getToken(fake));
    expect((await client.getTask({ hostId: 'cli-test' })).task?.id).toBe(taskId);
    const c1z = Buffer.concat([Buffer.from('C1ZF\0'), Buffer.alloc(2000, 1)]);
    await client.uploadAsset(upload(taskId, c1z));
    await client.finishTask({ hostId: 'cli-test', taskId, finalState: { case: 'success', value: {} } });

    await waitOut(new RegExp(`task ${taskId} finished: success`));
    expect(stdout).toContain(`task ${taskId} handed to cli-test`);
    expect(stdout).toMatch(new RegExp(`upload for task ${taskId}: 2005 bytes in 1 chunks, sha256 ok`));
    expect(readdirSync(uploads)).toEqual([`${taskId}-1.c1z`]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/Fake ConductorOne stopped: 0 hellos, 1 polls, 1 uploads, 1 finished tasks/);
    expect(existsSync(env.NODE_EXTRA_CA_CERTS!)).toBe(false);
    // Its own secret is printed on purpose, but never in a line other than the export.
    expect(stdout.split(env.BATON_CLIENT_SECRET!).length).toBe(2);
  });
});
