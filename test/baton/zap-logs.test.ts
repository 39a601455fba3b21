import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { cli, simulatorFlags } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { Simulator } from '../../src/simulator/index.js';
import { testSimulator } from '../helpers/simulator.js';

/** zap's production JSON encoder: these keys, with these types. */
interface ZapLine {
  level: 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';
  ts: number;
  msg: string;
  caller?: string;
  [field: string]: unknown;
}

const ZAP_LEVELS = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

function parseZap(text: string): ZapLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      expect(ZAP_LEVELS, l).toContain(o.level);
      expect(typeof o.ts, l).toBe('number');
      expect(typeof o.msg, l).toBe('string');
      // pino's own keys must not leak through: a zap filter would miss them.
      expect(o, l).not.toHaveProperty('time');
      expect(o, l).not.toHaveProperty('pid');
      expect(o, l).not.toHaveProperty('hostname');
      return o as ZapLine;
    });
}

describe('JSON logs have zap field names', () => {
  it('level as a word, ts in epoch seconds, msg, caller and the call fields', () => {
    let text = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', format: 'json', destination });
    const before = Date.now() / 1000;
    logger.child({ caller: 'connector/sync' }).warn({ path: '/api/users' }, 'Skipped one');
    logger.debug('detail');
    logger.error({ userId: 7 }, 'failed');
    const after = Date.now() / 1000;
    const lines = parseZap(text);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Skipped one'],
      ['debug', 'detail'],
      ['error', 'failed'],
    ]);
    for (const l of lines) {
      // seconds, not milliseconds, with a fraction as zap's epoch encoder writes
      expect(l.ts).toBeGreaterThanOrEqual(Math.floor(before));
      expect(l.ts).toBeLessThanOrEqual(after + 1);
    }
    expect(lines[0]).toMatchObject({ caller: 'connector/sync', path: '/api/users' });
    expect(lines[2]).toMatchObject({ userId: 7 });
  });
});

describe('a sync logs one structured record at its end: "sync finished" or "sync failed"', () => {
  let sim: Simulator;
  const tmp = tempDir();
  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 4, users: 60 } });
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  it('with counts, requests, duration and the output path, even with stdout discarded', async () => {
    const out = join(tmp.dir, 'logged.c1z');
    const run = await cli([
      'sync',
      ...simulatorFlags(sim),
      '-f',
      out,
      '--log-format',
      'json',
      '--no-progress',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = parseZap(run.stderr);
    const done = lines.filter((l) => l.msg === 'sync finished');
    expect(done).toHaveLength(1);
    const rec = done[0]!;
    expect(rec.level).toBe('info');
    expect(rec.caller).toBe('connector/sync');
    expect(rec.output).toBe(out);
    // Which Coupa the file describes: a leftover BATON_BASE_URL must show in the record.
    expect(rec.host).toBe(new URL(sim.url).host);
    const gt = sim.groundTruth();
    expect((rec.resourcesByType as Record<string, number>).user).toBe(gt.users.length);
    expect(rec.grants).toBeGreaterThan(0);
    expect(rec.entitlements).toBeGreaterThan(0);
    expect(rec.requests).toBeGreaterThan(0);
    expect(typeof rec.durationMs).toBe('number');
    expect(rec.syncId).toMatch(/^[0-9A-Za-z]{27}$/);
    // the human summary still goes to stdout
    expect(run.stdout).toContain('Sync finished');
  });

  /** The JSON records of stderr with this message (the human line is not JSON). */
  const records = (stderr: string, msg: string) =>
    parseZap(
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .join('\n'),
    ).filter((l) => l.msg === msg);
  const base = () => ['sync', '--base-url', sim.url, '--coupa-client-id', sim.clientId, '--no-progress'];

  it('a wrong secret: exit 3, one error record with kind, status, exit code and host, and the human line', async () => {
    const wrong = 'wrong-secret-for-the-record-7';
    const run = await cli([
      ...base(),
      '--coupa-client-secret',
      wrong,
      '-f',
      join(tmp.dir, 'failed.c1z'),
      '--log-format',
      'json',
    ]);
    expect(run.code).toBe(3);
    const failed = records(run.stderr, 'sync failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: 'error',
      caller: 'cli/sync',
      errorKind: 'CoupaAuthError',
      // The token endpoint's answer to a wrong secret (OAuth's invalid_client).
      status: 400,
      endpoint: 'POST /oauth2/token',
      exitCode: 3,
      host: new URL(sim.url).host,
      output: join(tmp.dir, 'failed.c1z'),
    });
    expect(String(failed[0]!.err)).toMatch(/rejected the client id\/secret/);
    // The human line is still there, once.
    const human = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
    expect(human).toEqual([expect.stringMatching(/^coupa-connector: Coupa rejected/)]);
    expect(run.stderr).not.toContain(wrong);
  });

  it('a usage error found before any request gets its record too (exit 2)', async () => {
    const run = await cli([
      ...base(),
      '--coupa-domain',
      'no such!',
      '--coupa-client-secret',
      'x-secret-9',
      '-f',
      join(tmp.dir, 'never.c1z'),
    ]);
    expect(run.code).toBe(2);
    expect(records(run.stderr, 'sync failed')).toEqual([
      expect.objectContaining({ level: 'error', errorKind: 'CoupaDomainError', exitCode: 2 }),
    ]);
  });

  it('console format: only the human line (a terminal gets no second copy)', async () => {
    const run = await cli([
      ...base(),
      '--coupa-client-secret',
      'wrong-secret-console-8',
      '-f',
      join(tmp.dir, 'failed-console.c1z'),
      '--log-format',
      'console',
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).not.toContain('sync failed');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^coupa-connector: Coupa rejected/),
    ]);
  });
});
