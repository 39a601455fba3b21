import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { simulatorFlags, cli } from '../helpers/cli.js';
import { sha256, strayFiles, syncOnce } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 7: SIGINT or SIGTERM during a sync stops it, leaves the previous output byte for
 * byte, leaves no temp file next to it or in TMPDIR, and exits 130 with a message. The simulator
 * runs in this process with latency so the spawned CLI is reliably mid-sync when the signal lands.
 */

let sim: Simulator;
const tmp = tempDir();
let previous: string;
let previousHash: string;

beforeAll(async () => {
  sim = await testSimulator({ tenant: { seed: 67, users: 3000 }, latencyMs: 120 });
  previous = join(tmp.dir, 'previous.c1z');
  // The previous output is a real c1z of the same tenant (written fast, without the latency).
  const fast = await testSimulator({ tenant: { seed: 67, users: 300 } });
  try {
    await syncOnce(fast, previous);
  } finally {
    await fast.close();
  }
  previousHash = sha256(previous);
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

/**
 * Runs the CLI into a copy of the previous file, with its own TMPDIR, and sends `signals` once
 * stderr shows `when` (a debug log line of the sync).
 */
async function interrupted(name: string, when: RegExp, signals: NodeJS.Signals[]) {
  const dir = join(tmp.dir, name);
  const tmpdir = join(dir, 'tmpdir');
  const outDir = join(dir, 'out');
  mkdirSync(tmpdir, { recursive: true });
  mkdirSync(outDir);
  const out = join(outDir, 'sync.c1z');
  const { copyFileSync } = await import('node:fs');
  copyFileSync(previous, out);
  let sentAt = 0;
  const started = Date.now();
  const run = await cli([...simulatorFlags(sim), '-f', out, '--log-level', 'debug', '--log-format', 'json'], {
    env: { TMPDIR: tmpdir },
    timeoutMs: 30_000,
    onStderr: (text, child) => {
      if (sentAt === 0 && when.test(text)) {
        sentAt = Date.now();
        for (const s of signals) child.kill(s);
      }
    },
  });
  return { run, out, outDir, tmpdir, sentAt, started, stoppedAfterMs: Date.now() - sentAt };
}

/** Lines of stderr that are not JSON log records: what the CLI says to the human. */
function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

describe('graceful stop of a spawned sync', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during the users pass: exit 130, a message, previous file intact, no temp files`, async () => {
      const r = await interrupted(`users-${signal}`, /"request":"GET \/api\/users","status":200/, [signal]);
      expect(r.sentAt).toBeGreaterThan(0);
      expect(r.run.signal).toBeNull(); // it exited by itself, not killed by the signal
      expect(r.run.code).toBe(130);
      expect(messages(r.run.stderr)).toEqual([expect.stringContaining(`Stopped by ${signal}`)]);
      // It stopped promptly: in-flight requests were aborted, not waited out to the end of the sync
      // (3000 users at 120 ms a page take well over 4 s).
      expect(r.stoppedAfterMs).toBeLessThan(4_000);
      expect(sha256(r.out)).toBe(previousHash);
      expect(strayFiles(r.outDir, ['sync.c1z'])).toEqual([]);
      expect(readdirSync(r.tmpdir)).toEqual([]);
    });
  }

  it('SIGTERM while the small lists are read (before any user): same guarantees', async () => {
    const r = await interrupted('lists', /requesting access token|"request":"POST \/oauth2\/token"/, [
      'SIGTERM',
    ]);
    expect(r.sentAt).toBeGreaterThan(0);
    expect(r.run.code).toBe(130);
    expect(messages(r.run.stderr).join('\n')).toMatch(/Stopped by SIGTERM/);
    expect(sha256(r.out)).toBe(previousHash);
    expect(strayFiles(r.outDir, ['sync.c1z'])).toEqual([]);
    expect(readdirSync(r.tmpdir)).toEqual([]);
  });

  it('a second signal exits at once with 130, the previous file still intact, no temp files', async () => {
    const r = await interrupted('twice', /"request":"GET \/api\/users","status":200/, ['SIGINT', 'SIGINT']);
    expect(r.run.code).toBe(130);
    expect(sha256(r.out)).toBe(previousHash);
    expect(strayFiles(r.outDir, ['sync.c1z'])).toEqual([]);
    // process.exit skips finish/abort; the writer's exit hook still removes its temp database.
    expect(readdirSync(r.tmpdir)).toEqual([]);
  });

  it('control: without a signal the same command replaces the file (so the checks above can fail)', async () => {
    const dir = join(tmp.dir, 'control');
    mkdirSync(dir);
    const out = join(dir, 'sync.c1z');
    const { copyFileSync } = await import('node:fs');
    copyFileSync(previous, out);
    const quick = await testSimulator({ tenant: { seed: 67, users: 200 } });
    try {
      const run = await cli([...simulatorFlags(quick), '-f', out]);
      expect(run.code).toBe(0);
      expect(sha256(out)).not.toBe(previousHash);
    } finally {
      await quick.close();
    }
  });
});
