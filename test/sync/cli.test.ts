import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ALL_SCOPES, type Simulator } from '../../src/simulator/index.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { cli } from '../helpers/cli.js';
import { testSimulator, SLOW_SIMULATOR } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FIXTURE } from '../c1z/helpers.js';

/** Lines of stderr that are not JSON log records: what the CLI says to the human. */
function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

describe('coupa-connector sync (spawned)', () => {
  let sim: Simulator;
  const tmp = tempDir();
  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 9, users: 120 } });
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });
  const base = () => ['--base-url', sim.url, '--coupa-client-id', sim.clientId];

  /**
   * Runs the CLI with `-f <file>` over a file holding a previous sync and expects it to fail with
   * `code`, say one line to the human and leave the file as it was; returns the run and that line.
   */
  async function failsOverPrevious(name: string, code: number, args: string[]) {
    const out = join(tmp.dir, name);
    copyFileSync(FIXTURE, out);
    const run = await cli([...args, '-f', out]);
    expect(run.code).toBe(code);
    const lines = messages(run.stderr);
    expect(lines).toHaveLength(1);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
    return { run, line: lines[0]! };
  }

  it('syncs by default (no command, as baton-coupa) and never prints the secret, even at debug level', async () => {
    const out = join(tmp.dir, 'root.c1z');
    const run = await cli([
      ...base(),
      '--coupa-client-secret',
      sim.clientSecret,
      '-f',
      out,
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Sync finished in .*root\.c1z/);
    expect(run.stdout).toMatch(/user 120\b/);
    expect(run.stdout).toMatch(/requests +\d+ \(floor \d+\), retries 0, 429s 0/);
    // Debug logging did happen (requests are logged), so the check below means something.
    expect(run.stderr).toContain('/oauth2/token');
    expect(run.stderr.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(5);
    expect(run.stdout + run.stderr).not.toContain(sim.clientSecret);
    const reader = await C1zReader.open(out);
    try {
      expect(reader.stats().resources.user).toBe(120);
    } finally {
      reader.close();
    }
  });

  it('an OAuth client refused core.accounting.read still syncs: exit 0, one warning, account groups skipped', async () => {
    const narrow = await testSimulator({
      tenant: { seed: 9, users: 120 },
      allowedScopes: ALL_SCOPES.filter((s) => s !== 'core.accounting.read'),
      scopeMismatch: 'reject',
    });
    try {
      const out = join(tmp.dir, 'no-accounting.c1z');
      const run = await cli([
        '--base-url',
        narrow.url,
        '--coupa-client-id',
        narrow.clientId,
        '--coupa-client-secret',
        narrow.clientSecret,
        '-f',
        out,
        '--log-format',
        'json',
      ]);
      expect(run.code).toBe(0);
      const warnings = run.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: string; msg: string })
        .filter((l) => l.level === 'warn');
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('core.accounting.read')]);
      expect(run.stdout).toContain('account groups skipped');
      expect(narrow.counters().byRoute['POST /oauth2/token']).toBe(2);
    } finally {
      await narrow.close();
    }
  });

  it('reads every flag from BATON_* variables, and keeps the secret out of the output there too', async () => {
    const out = join(tmp.dir, 'env.c1z');
    const run = await cli(['sync', '--log-level', 'debug', '--log-format', 'json'], {
      env: {
        BATON_BASE_URL: sim.url,
        BATON_COUPA_CLIENT_ID: sim.clientId,
        BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
        BATON_FILE: out,
      },
    });
    expect(run.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(run.stderr).toContain('/oauth2/token');
    expect(run.stdout + run.stderr).not.toContain(sim.clientSecret);
  });

  it('fails on a wrong secret with one actionable line, exit 3, and the old file untouched', async () => {
    const wrong = 'not-the-right-secret-42';
    const { run, line } = await failsOverPrevious('keep.c1z', 3, [...base(), '--coupa-client-secret', wrong]);
    expect(line).toMatch(/^coupa-connector: Coupa rejected the client id\/secret .*--coupa-client-secret/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });

  it('rejects a domain that is not a Coupa host with one line, exit 2, and the old file untouched', async () => {
    const { line } = await failsOverPrevious('keep-domain.c1z', 2, [
      '--coupa-domain',
      'no such!',
      '--coupa-client-id',
      'id',
      '--coupa-client-secret',
      'some-secret-1',
    ]);
    expect(line).toContain('"no such!"');
    expect(line).toContain('--base-url');
  });

  it('gives up on an unreachable host with one line, exit 4, and the old file untouched', async () => {
    const { line } = await failsOverPrevious('keep-host.c1z', 4, [
      '--base-url',
      `http://127.0.0.1:${await closedPort()}`,
      '--coupa-client-id',
      'id',
      '--coupa-client-secret',
      'some-secret-2',
      '--max-retries',
      '1',
    ]);
    expect(line).toMatch(/^coupa-connector: .*oauth2\/token.*--max-retries/);
  });

  it.each([
    ['random bytes', () => randomBytes(4096)],
    [
      'a truncated good file',
      () => readFileSync(FIXTURE).subarray(0, Math.floor(statSync(FIXTURE).size / 2)),
    ],
  ])(
    'an existing -f that is not a readable c1z (%s) fails before any request: exit 2, what to do, file untouched',
    async (_, content) => {
      const out = join(tmp.dir, 'corrupt-previous.c1z');
      const bytes = content();
      writeFileSync(out, bytes);
      const before = sim.counters().total;
      const run = await cli([...base(), '--coupa-client-secret', sim.clientSecret, '-f', out]);
      expect(run.code).toBe(2);
      // Not one request: the whole sync used to run first and fail only when adding to the file.
      expect(sim.counters().total).toBe(before);
      const lines = messages(run.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^coupa-connector: Cannot add this sync to .*corrupt-previous\.c1z/);
      expect(lines[0]).toMatch(/not a readable c1z/);
      expect(lines[0]).toMatch(/Move it away/);
      expect(lines[0]).toContain('BATON_KEEP_SYNC_COUNT=1');
      // Not a disk or permission problem: the old hint sent people looking in the wrong place.
      expect(lines[0]).not.toMatch(/free space|permissions/);
      expect(readFileSync(out).equals(bytes)).toBe(true);
      // The way out it names works.
      const replaced = await cli([...base(), '--coupa-client-secret', sim.clientSecret, '-f', out], {
        env: { BATON_KEEP_SYNC_COUNT: '1' },
      });
      expect(replaced.code).toBe(0);
    },
  );

  it.each([
    [
      'both flags',
      ['--coupa-domain', 'no such!'],
      {},
      /\(from the command line\).*--base-url .*\(from the command line\)/,
    ],
    [
      'a leftover BATON_BASE_URL',
      ['--coupa-domain', 'acme'],
      { BATON_BASE_URL: 'URL' },
      /\(from the command line\).*--base-url .*\(from BATON_BASE_URL\)/,
    ],
    [
      'a leftover BATON_COUPA_DOMAIN',
      [],
      { BATON_COUPA_DOMAIN: 'acme' },
      /\(from BATON_COUPA_DOMAIN\).*--base-url .*\(from the command line\)/,
    ],
  ])(
    '--coupa-domain and --base-url naming different hosts (%s): exit 2 naming both and where they came from, no request',
    async (_, args, env, sources) => {
      const viaEnv = 'BATON_BASE_URL' in env;
      const before = sim.counters().total;
      const run = await cli(
        [
          ...(viaEnv ? [] : ['--base-url', sim.url]),
          '--coupa-client-id',
          sim.clientId,
          '--coupa-client-secret',
          sim.clientSecret,
          ...args,
          '-f',
          join(tmp.dir, 'never-synced.c1z'),
        ],
        { env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'URL' ? sim.url : v])) },
      );
      expect(run.code).toBe(2);
      const lines = messages(run.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/--coupa-domain/);
      expect(lines[0]).toMatch(sources);
      expect(lines[0]).toContain(new URL(sim.url).host);
      expect(sim.counters().total).toBe(before);
      expect(existsSync(join(tmp.dir, 'never-synced.c1z'))).toBe(false);
    },
  );

  it('asks for what is missing instead of failing later', async () => {
    const run = await cli(['--coupa-domain', 'acme', '--coupa-client-id', 'id']);
    expect(run.code).toBe(2);
    expect(messages(run.stderr)).toEqual([
      expect.stringMatching(/Missing --coupa-client-secret.*BATON_COUPA_CLIENT_SECRET/),
    ]);
  });
});

describe('coupa-connector sync interrupted (spawned)', () => {
  let sim: Simulator;
  const tmp = tempDir();
  beforeAll(async () => {
    sim = await testSimulator(SLOW_SIMULATOR);
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  it('stops on SIGINT with exit 130 and leaves the previous file as it was', async () => {
    const out = join(tmp.dir, 'keep.c1z');
    copyFileSync(FIXTURE, out);
    let sent = false;
    const run = await cli(
      [
        '--base-url',
        sim.url,
        '--coupa-client-id',
        sim.clientId,
        '--coupa-client-secret',
        sim.clientSecret,
        '-f',
        out,
        '--log-level',
        'debug',
      ],
      {
        onStderr: (text, child) => {
          // Once the users pass is under way.
          if (!sent && text.includes('GET /api/users')) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(run.code).toBe(130);
    expect(messages(run.stderr)).toEqual([expect.stringContaining('Stopped by SIGINT')]);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
  });
});

describe('coupa-connector capabilities and demo (spawned)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('capabilities prints JSON like baton: every type syncs, the grantable ones provision', async () => {
    const run = await cli(['capabilities']);
    expect(run.code).toBe(0);
    const caps = JSON.parse(run.stdout) as {
      '@type': string;
      resourceTypeCapabilities: Array<{ resourceType: { id: string }; capabilities: string[] }>;
      connectorCapabilities: string[];
    };
    expect(caps['@type']).toBe('type.googleapis.com/c1.connector.v2.ConnectorCapabilities');
    const byType = Object.fromEntries(
      caps.resourceTypeCapabilities.map((c) => [c.resourceType.id, c.capabilities]),
    );
    expect(Object.keys(byType).sort()).toEqual([
      'account_group',
      'content_group',
      'group',
      'license',
      'role',
      'user',
    ]);
    for (const t of ['group', 'role', 'license', 'content_group', 'account_group']) {
      expect(byType[t]).toEqual(['CAPABILITY_SYNC', 'CAPABILITY_PROVISION']);
    }
    expect(byType.user).toContain('CAPABILITY_SYNC');
    expect(byType.user).not.toContain('CAPABILITY_PROVISION');
    expect(caps.connectorCapabilities).toEqual(
      expect.arrayContaining(['CAPABILITY_SYNC', 'CAPABILITY_PROVISION']),
    );
  });

  it('demo syncs a simulated tenant and shows who has what from the file', async () => {
    const out = join(tmp.dir, 'demo.c1z');
    const run = await cli(['demo', '--users', '150', '--rate-limit', '0', '--latency', '0', '-f', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/user 150\b/);
    expect(run.stdout).toContain('Who has what');
    expect(run.stdout).toMatch(/roles +\S/);
    expect(run.stdout).toMatch(/User Role +150 users/);
    expect(run.stdout).toContain(`coupa-connector stats -f ${out}`);
    expect(existsSync(out)).toBe(true);
  });
});

/** A loopback port nobody listens on: connecting to it is refused, like a host that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
