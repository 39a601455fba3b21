import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compress } from 'zstd-napi';
import { spellingsOf } from '../../src/secrets.js';
import { processSpaceKey } from '../../src/util/leftovers.js';
import { HOSTILE_NAME, startHostile, type HostileMode, type HostileServer } from './hostile-server.js';
import {
  expectOneCleanLine,
  hostileArgs,
  previousOutput,
  runMeasured,
  secretEnv,
  TERMINAL_UNSAFE,
  type MeasuredRun,
} from './hostile-run.js';
import { cleanEnv, cliBin } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 14: each fault against the built CLI, in a child process whose peak memory is measured.
 * Every case checks the exit code against the README's table, that stderr is one clean line (no
 * terminal control, no secret), and that the previous output file is byte-identical with nothing
 * left beside it. The memory bound is far below what each fault cost before its fix (17 GB for the
 * endless body, 1 GiB and more for the bombs) and well above a small sync's own footprint.
 */
const PEAK_MIB = 250;

let tmp: ReturnType<typeof tempDir>;
let server: HostileServer | undefined;
beforeEach(() => {
  tmp = tempDir('coupa-hostile-');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  tmp.cleanup();
});

/** Every string anywhere in a parsed JSON value (the json shapes are the inspector's, not ours to pin here). */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

async function hostile(mode: HostileMode, opts?: Parameters<typeof startHostile>[1]): Promise<HostileServer> {
  server = await startHostile(mode, opts);
  return server;
}

/** `coupa-connector sync` against the hostile server into `out`, in a child process whose peak memory is taken. */
function syncInto(
  s: HostileServer,
  out: string,
  opts: { extra?: string[]; env?: Record<string, string> } = {},
): Promise<MeasuredRun> {
  return runMeasured([...hostileArgs(s, opts.extra), '-f', out], {
    env: { ...secretEnv(s), ...opts.env },
    dir: tmp.dir,
  });
}

describe('1. unbounded responses', () => {
  it('a body that never ends: exit 1 naming the endpoint, read once (not retried), bounded memory', async () => {
    const s = await hostile('endless-body');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(1);
    const line = expectOneCleanLine(run.stderr);
    expect(line).toMatch(/GET \/api\/users .*more than 16 MiB/);
    expect(line).toMatch(/not retried/);
    // The users walk asks for both ends of the list at once; neither is asked for twice.
    expect(s.requests.get('/api/users')).toBeLessThanOrEqual(2);
    expect(s.mostAsksOfOneUrl()).toBe(1);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
    prev.intact();
  });

  it('a small gzip body that inflates to 1 GiB: exit 1, not retried, bounded memory', async () => {
    const s = await hostile('gzip-bomb', { bombBytes: 1024 * 1024 * 1024 });
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(1);
    expect(expectOneCleanLine(run.stderr)).toMatch(/GET \/api\/users .*more than 16 MiB .*decoded bytes/);
    // Both ends of the users list at once (see above); neither is asked for twice.
    expect(s.requests.get('/api/users')).toBeLessThanOrEqual(2);
    expect(s.mostAsksOfOneUrl()).toBe(1);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
    prev.intact();
  });

  it('a 200 MB page announced by Content-Length: refused before reading, exit 1', async () => {
    const s = await hostile('huge-declared');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(1);
    expect(expectOneCleanLine(run.stderr)).toMatch(/GET \/api\/users .*Content-Length 209715200/);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
    prev.intact();
  });

  it('the cap is configurable: --max-response-mb 8 stops a 64 MiB chunked page at 8 MiB', async () => {
    const s = await hostile('huge-chunked');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path, { extra: ['--max-response-mb', '8'] });
    expect(run.code).toBe(1);
    expect(expectOneCleanLine(run.stderr)).toMatch(/more than 8 MiB/);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
    prev.intact();
  });

  it('a list that keeps growing: a clear error instead of paging forever', async () => {
    const s = await hostile('endless-list');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(1);
    expect(expectOneCleanLine(run.stderr)).toMatch(/GET \/api\/users kept growing while it was read/);
    // The first estimate was about 10 000 users; the walk stopped near 3× that, not at infinity.
    expect(s.requests.get('/api/users')).toBeLessThan(1000);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
    prev.intact();
  });
});

describe('2. non-regular output targets (checked before any request)', () => {
  async function refused(target: string, kind: RegExp): Promise<void> {
    const s = await hostile('clean');
    const run = await syncInto(s, target);
    expect(run.code).toBe(2);
    expect(expectOneCleanLine(run.stderr)).toMatch(kind);
    expect(s.total()).toBe(0);
  }

  it('/dev/null (a character device): exit 2, and it stays a device', async () => {
    await refused('/dev/null', /\/dev\/null is a character device/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a FIFO: exit 2, and it stays a FIFO', async () => {
    const fifo = join(tmp.dir, 'pipe.c1z');
    execFileSync('mkfifo', [fifo]);
    await refused(fifo, /is a FIFO/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a directory: exit 2 before the sync, not after it', async () => {
    const dir = join(tmp.dir, 'adir');
    mkdirSync(dir);
    await refused(dir, /is a directory/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a folder that does not exist: exit 2, as for a directory', async () => {
    await refused(join(tmp.dir, 'nowhere', 'x.c1z'), /its directory .*nowhere does not exist/);
  });

  it('a dangling symlink: exit 2', async () => {
    const link = join(tmp.dir, 'dangling.c1z');
    symlinkSync(join(tmp.dir, 'nowhere', 'x.c1z'), link);
    await refused(link, /symlink that points to nothing/);
  });

  it('a symlink to a file: written through, the link stays and its target is the new c1z (0600)', async () => {
    const s = await hostile('clean');
    const target = join(tmp.dir, 'real.c1z');
    writeFileSync(target, 'old');
    const link = join(tmp.dir, 'latest.c1z');
    symlinkSync(target, link);
    // The old target is not a c1z, so ask for a plain replacement rather than a kept history.
    const run = await syncInto(s, link, { env: { BATON_KEEP_SYNC_COUNT: '1' } });
    expect(run.code, run.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target).subarray(0, 4).toString()).toBe('C1ZF');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});

describe('leftover temp files of dead processes', () => {
  it('kill -9 mid-sync leaves its temp database; the next run removes it, and a dead writer’s .tmp file', async () => {
    const s = await hostile('endless-body');
    const tmpRoot = join(tmp.dir, 'tmp');
    mkdirSync(tmpRoot);
    const out = join(tmp.dir, 'out.c1z');
    // A sync that is reading a response when it is killed.
    const child = spawn(
      process.execPath,
      [cliBin(), ...hostileArgs(s, ['--max-response-mb', '4096']), '-f', out],
      {
        env: cleanEnv({ ...secretEnv(s), TMPDIR: tmpRoot }),
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 300 && !s.requests.get('/api/users'); i++)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const left = readdirSync(tmpRoot).filter((n) => n.startsWith('c1z-writer-'));
    expect(left).toHaveLength(1);
    // A compressor killed during finish() leaves `.out.c1z.tmp-<pid>.<space>-*` beside the output.
    const deadTmp = join(tmp.dir, `.out.c1z.tmp-${child.pid}.${processSpaceKey()}-0123456789ab`);
    writeFileSync(deadTmp, 'half a c1z');
    // A live writer's files are not touched.
    const liveTmp = join(tmp.dir, `.out.c1z.tmp-${process.pid}.${processSpaceKey()}-ba9876543210`);
    writeFileSync(liveTmp, 'in progress');
    await s.close();
    const clean = await hostile('clean');
    const run = await syncInto(clean, out, { env: { TMPDIR: tmpRoot } });
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(tmpRoot)).toEqual([]);
    expect(existsSync(deadTmp)).toBe(false);
    expect(existsSync(liveTmp)).toBe(true);
  });
});

describe('3. terminal injection', () => {
  it('names full of escapes, bidi overrides and controls: the console shows them escaped, json keeps them exact', async () => {
    const s = await hostile('hostile-names');
    const out = join(tmp.dir, 'out.c1z');
    const sync = await syncInto(s, out);
    expect(sync.code, sync.stderr).toBe(0);
    for (const args of [
      ['access', '--entitlement', 'role:1:member'],
      ['resources'],
      ['grants'],
      ['access', '--principal', 'user:1000'],
    ]) {
      const run = await runMeasured([...args, '-f', out], { dir: tmp.dir });
      expect(run.code, run.stderr).toBe(0);
      expect(TERMINAL_UNSAFE.test(run.stdout), `${args.join(' ')}: ${JSON.stringify(run.stdout)}`).toBe(
        false,
      );
      expect(run.stdout).toContain('\\x1b[2J');
      expect(run.stdout).toContain('\\u202e');
      // Every row stays one line: the \r that would overwrite a row is shown, not obeyed.
      expect(run.stdout).toContain('\\x0d');
    }
    const json = await runMeasured(['resources', '--resource-type', 'role', '-o', 'json', '-f', out], {
      dir: tmp.dir,
    });
    expect(json.stdout).toContain(JSON.stringify(HOSTILE_NAME).slice(1, -1).slice(0, 20));
    expect(stringsIn(JSON.parse(json.stdout))).toContain(HOSTILE_NAME);
  });

  it('a proxy error page quoting escapes and the form-encoded secret: one clean line, the secret redacted in every spelling', async () => {
    const s = await hostile('echo-secret');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(1);
    const line = expectOneCleanLine(run.stderr);
    expect(line).toContain('[REDACTED]');
    expect(line).toContain('\\x1b[2J');
    for (const spelling of spellingsOf(s.clientSecret)) expect(line).not.toContain(spelling);
    // Not even its first characters: the quote is redacted before it is shortened.
    expect(line).not.toContain('s3cr');
    prev.intact();
  });

  it('a 2 MB name: console cells are capped, -o json has the full value', async () => {
    const s = await hostile('wide-name');
    const out = join(tmp.dir, 'out.c1z');
    const sync = await syncInto(s, out);
    expect(sync.code, sync.stderr).toBe(0);
    const table = await runMeasured(['resources', '--resource-type', 'user', '-f', out], { dir: tmp.dir });
    expect(table.code).toBe(0);
    expect(table.stdout.length).toBeLessThan(4096);
    expect(Math.max(...table.stdout.split('\n').map((l) => l.length))).toBeLessThan(300);
    expect(table.stdout).toMatch(/W+… \(2097154 chars\)/);
    const json = await runMeasured(['resources', '--resource-type', 'user', '-o', 'json', '-f', out], {
      dir: tmp.dir,
    });
    expect(stringsIn(JSON.parse(json.stdout))).toContain(`${'W'.repeat(2 * 1024 * 1024)} X`);
  });
});

describe('6. smaller gaps', () => {
  it('ids above 2^53: refused with exit 2 instead of rounded', async () => {
    const s = await hostile('big-id');
    const prev = previousOutput(tmp.dir);
    const run = await syncInto(s, prev.path);
    expect(run.code).toBe(2);
    expect(expectOneCleanLine(run.stderr)).toMatch(/GET \/api\/roles.*id above 2\^53/);
    prev.intact();
  });

  it('expires_in <= 0: one warning, and not a token per call', async () => {
    const s = await hostile('negative-expiry', { users: 120 });
    const out = join(tmp.dir, 'out.c1z');
    const args = hostileArgs(s).map((a) => (a === 'silent' ? 'warn' : a));
    const run = await runMeasured([...args, '--log-format', 'json', '-f', out], {
      env: secretEnv(s),
      dir: tmp.dir,
    });
    expect(run.code, run.stderr).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => /expires in -5 s/.test(l));
    expect(warnings).toHaveLength(1);
    expect(s.tokenRequests()).toBe(1);
    expect(s.total()).toBeGreaterThan(5);
  });

  it('the c1z is written 0600', async () => {
    const s = await hostile('clean');
    const out = join(tmp.dir, 'out.c1z');
    const run = await syncInto(s, out);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('a group- or world-readable --config warns once; a 0600 one does not', async () => {
    const s = await hostile('clean');
    const config = join(tmp.dir, 'coupa.json');
    writeFileSync(config, JSON.stringify({ 'coupa-client-secret': s.clientSecret }));
    const args = [...hostileArgs(s).map((a) => (a === 'silent' ? 'warn' : a)), '--config', config];
    chmodSync(config, 0o644);
    const loose = await runMeasured([...args, '-f', join(tmp.dir, 'a.c1z')], { dir: tmp.dir });
    expect(loose.code, loose.stderr).toBe(0);
    const warned = loose.stderr.split('\n').filter((l) => l.includes('chmod 600'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/can be read by everyone/);
    chmodSync(config, 0o600);
    const tight = await runMeasured([...args, '-f', join(tmp.dir, 'b.c1z')], { dir: tmp.dir });
    expect(tight.code, tight.stderr).toBe(0);
    expect(tight.stderr).not.toContain('chmod 600');
  });

  it.each([
    [['--request-timeout', '0'], /--request-timeout must be between/],
    [['--max-retries', '1e9'], /--max-retries must be a whole number from 0 to 50/],
    [['--rate-limit', '0.001'], /--rate-limit must be 0 or between 0.1/],
    [['--burst', '100000000'], /--burst must be a whole number from 1/],
    [['--max-response-mb', '0'], /--max-response-mb must be a whole number from 1/],
  ])('numeric flag %j: exit 2 before any request', async (flag, message) => {
    const s = await hostile('clean');
    const run = await syncInto(s, join(tmp.dir, 'x.c1z'), { extra: flag });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(s.total()).toBe(0);
  });

  it.each([
    [['sync', '--coupa-domain', 'xn--acme', '--coupa-client-id', 'id'], /not a valid host name/],
    [['grant', 'role:1:member', '../x', '-p', '--base-url', 'http://127.0.0.1:9'], /user "..\/x"/],
    [
      ['grant', 'role:9007199254740993:member', '5', '-p', '--base-url', 'http://127.0.0.1:9'],
      /up to 2\^53 - 1/,
    ],
    [['sync', '--base-url', 'http://127.0.0.1:1', '--coupa-client-id', 'id'], /port 1 is on the list/],
  ])('%j: exit 2 with one clean line', async (args, message) => {
    const run = await runMeasured([...args, '--log-level', 'silent'], {
      env: { BATON_COUPA_CLIENT_SECRET: 'secret-x', BATON_COUPA_CLIENT_ID: 'id' },
      dir: tmp.dir,
    });
    expect(run.code).toBe(2);
    expect(expectOneCleanLine(run.stderr)).toMatch(message);
    expect(run.stderr).not.toMatch(/TypeError|may have reached/);
  });
});

describe('zstd bomb', () => {
  let bomb: string;
  let bombs: ReturnType<typeof tempDir>;
  beforeAll(() => {
    bombs = tempDir('coupa-bomb-');
    // 128 MiB of zeros is one tiny frame; eight of them decode to 1 GiB from a few kB.
    const frame = compress(Buffer.alloc(128 * 1024 * 1024), { compressionLevel: 19 });
    bomb = join(bombs.dir, 'bomb.c1z');
    writeFileSync(bomb, Buffer.concat([Buffer.from('C1ZF\0'), ...Array.from({ length: 8 }, () => frame)]));
  });
  afterAll(() => bombs.cleanup());

  it('a few-kB file that decodes to 1 GiB: exit 2 at the decoded-size limit, bounded memory', async () => {
    expect(statSync(bomb).size).toBeLessThan(200_000);
    const run = await runMeasured(['stats', '-f', bomb], {
      env: { BATON_DECODER_MAX_DECODED_SIZE_MB: '256' },
      dir: tmp.dir,
    });
    expect(run.code).toBe(2);
    expect(expectOneCleanLine(run.stderr)).toMatch(/decodes to more than 256 MiB/);
    expect(run.peakMiB).toBeLessThan(PEAK_MIB);
  });
});
