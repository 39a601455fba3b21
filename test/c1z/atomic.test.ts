import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { C1zWriter } from '../../src/c1z/writer.js';
import { C1zWriteError } from '../../src/c1z/errors.js';
import { CoupaConnectorError, ExitCode } from '../../src/errors.js';
import { GrantSchema } from '../../src/c1z/messages.js';
import { sampleData, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const PREVIOUS = Buffer.from('C1ZF\0previous file contents that must survive');

function setup() {
  const dir = tempDir();
  const out = join(dir, 'sync.c1z');
  writeFileSync(out, PREVIOUS);
  const work = join(dir, 'work');
  return { dir, out, work };
}

/** Files in the output dir besides the target: temp files must never be left behind. */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f !== 'sync.c1z' && f !== 'work');

describe('C1zWriter replaces the target atomically', () => {
  it('abort() leaves a pre-existing file byte-identical and removes the temp database', async () => {
    const { dir, out } = setup();
    const tmp = tempDir();
    const w = await C1zWriter.create(out, { tmpDir: tmp });
    const s = sampleData();
    s.resources.forEach((r) => w.putResource(r));
    expect(readdirSync(tmp)).toHaveLength(1); // the writer's temp dir exists while writing
    await w.abort();
    await w.abort(); // idempotent
    expect(readFileSync(out)).toEqual(PREVIOUS);
    expect(readdirSync(tmp)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a put that throws mid-way, then abort, leaves the target untouched', async () => {
    const { dir, out } = setup();
    const w = await C1zWriter.create(out, { batchSize: 2 });
    const s = sampleData();
    s.resources.forEach((r) => w.putResource(r));
    let thrown: unknown;
    try {
      w.putGrant(create(GrantSchema, { id: 'broken' }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(C1zWriteError);
    expect((thrown as CoupaConnectorError).message).toMatch(/broken/);
    await w.abort();
    expect(readFileSync(out)).toEqual(PREVIOUS);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a failure while compressing leaves the target untouched and no temp file', async () => {
    const { dir, out } = setup();
    const tmp = tempDir();
    const w = await C1zWriter.create(out, { tmpDir: tmp });
    sampleData().resources.forEach((r) => w.putResource(r));
    // Lose the temp database before compression (a wiped temp dir): SQLite keeps its open handle,
    // so rows and commit succeed, and reading the file to compress it fails.
    rmSync(join(tmp, readdirSync(tmp)[0]!, 'db'));
    const finishing = w.finish();
    await expect(finishing).rejects.toBeInstanceOf(C1zWriteError);
    expect(readFileSync(out)).toEqual(PREVIOUS);
    expect(leftovers(dir)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a target directory that does not exist fails at create, before any work, as a usage error', async () => {
    const tmp = tempDir();
    const out = join(tmp, 'missing-dir', 'sync.c1z');
    await expect(C1zWriter.create(out, { tmpDir: tmp })).rejects.toThrow(
      /missing-dir does not exist or is not writable/,
    );
    // The same exit code as -f naming a directory or a device: the path is wrong, fix it and rerun.
    await expect(C1zWriter.create(out, { tmpDir: tmp })).rejects.toMatchObject({ exitCode: ExitCode.usage });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a forced process.exit mid-write leaves neither temp data nor a changed target', () => {
    const { dir, out } = setup();
    const tmp = tempDir();
    const script = `
      const { C1zWriter } = await import('./src/c1z/writer.ts');
      const { sampleData } = await import('./test/c1z/helpers.ts');
      const w = await C1zWriter.create(${JSON.stringify(out)}, { tmpDir: ${JSON.stringify(tmp)} });
      sampleData().resources.forEach((r) => w.putResource(r));
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(3);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readFileSync(out)).toEqual(PREVIOUS);
    expect(leftovers(dir)).toEqual([]);
  });

  it('finish() replaces the previous file only with the complete new one', async () => {
    const { dir, out } = setup();
    const w = await C1zWriter.create(out);
    sampleData().resources.forEach((r) => w.putResource(r));
    const { bytes } = await w.finish();
    const now = readFileSync(out);
    expect(now.equals(PREVIOUS)).toBe(false);
    expect(now.length).toBe(bytes);
    expect(leftovers(dir)).toEqual([]);
  });
});
