import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  connect as connectNet,
  createServer as createNetServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { decodeC1z, decodeLimits } from '../../src/c1z/container.js';
import { startTokenSpy, type TokenSpy } from './helpers.js';
import { startFakeC1 } from '../../src/simulator/c1/index.js';
import { cleanEnv, cli, cliBin, type Run } from '../helpers/cli.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 4: the client secret and the access tokens never reach stdout, stderr, logs at any
 * level and format, the audit log, the journal or a c1z (compressed or decompressed), whether the
 * secret comes from a flag, BATON_COUPA_CLIENT_SECRET or a --config file. A proxy between the CLI
 * and the simulator records every token actually issued and used, so the grep knows what to look for.
 */

const SECRET = `hardening-secret-${randomBytes(12).toString('hex')}`;
const CLIENT_ID = 'hardening-client';

let sim: Simulator;
let spy: TokenSpy;
const tmp = tempDir();

beforeAll(async () => {
  sim = await testSimulator({ tenant: { seed: 65, users: 150 }, clientId: CLIENT_ID, clientSecret: SECRET });
  spy = await startTokenSpy(sim.url);
});
afterAll(async () => {
  await spy.close();
  await sim.close();
  tmp.cleanup();
});

/** Every spelling of the credentials that could leak: raw, URL-encoded, inside a Basic header. */
function forbidden(): string[] {
  const basic = Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64');
  return [SECRET, encodeURIComponent(SECRET), basic, SECRET.slice(-16), ...spy.tokens];
}

/** Every file under `dir`, with c1z files also decompressed to their SQLite bytes. */
async function filesUnder(dir: string): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    out.push([path, readFileSync(path)]);
    if (name.endsWith('.c1z')) {
      const db = `${path}.sqlite-decoded`;
      await decodeC1z(path, db, decodeLimits({}));
      out.push([db, readFileSync(db)]);
    }
  }
  return out;
}

function expectClean(what: string, text: string | Buffer): void {
  const hay = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (const needle of forbidden()) {
    expect(hay.includes(Buffer.from(needle)), `${what} contains a credential (${needle.slice(0, 6)}…)`).toBe(
      false,
    );
  }
}

type SecretSource = 'flag' | 'env' | 'config file';

/** Args and env that pass the secret the given way (the rest of the connection by flag). */
function credentials(source: SecretSource, dir: string): { args: string[]; env: Record<string, string> } {
  const base = ['--base-url', spy.url, '--rate-limit', '0'];
  if (source === 'flag') {
    return { args: [...base, '--coupa-client-id', CLIENT_ID, '--coupa-client-secret', SECRET], env: {} };
  }
  if (source === 'env') {
    return {
      args: [...base],
      env: { BATON_COUPA_CLIENT_ID: CLIENT_ID, BATON_COUPA_CLIENT_SECRET: SECRET },
    };
  }
  const file = join(dir, 'coupa.json');
  writeFileSync(file, JSON.stringify({ 'coupa-client-id': CLIENT_ID, 'coupa-client-secret': SECRET }), {
    mode: 0o600,
  });
  return { args: [...base, '--config', file], env: {} };
}

function expectRunClean(what: string, run: Run): void {
  expectClean(`${what}: stdout`, run.stdout);
  expectClean(`${what}: stderr`, run.stderr);
}

describe('secrets never leak from a sync at debug level', () => {
  for (const source of ['flag', 'env', 'config file'] as const) {
    for (const format of ['json', 'console'] as const) {
      it(`secret by ${source}, --log-format ${format}`, async () => {
        const dir = join(tmp.dir, `sync-${source.replace(' ', '-')}-${format}`);
        mkdirSync(dir);
        const cred = credentials(source, dir);
        const before = spy.tokens.size;
        const run = await cli(
          [...cred.args, '-f', join(dir, 'out.c1z'), '--log-level', 'debug', '--log-format', format],
          { env: cred.env, cwd: dir },
        );
        expect(run.code, run.stderr).toBe(0);
        // The run did talk to Coupa with a token and did log at debug level: the grep is not vacuous.
        expect(spy.tokens.size).toBeGreaterThan(before);
        expect(run.stderr).toMatch(/coupa request/);
        expect(run.stderr.split('\n').length).toBeGreaterThan(10);
        expectRunClean(`sync (${source}, ${format})`, run);
        const files = await filesUnder(dir);
        expect(files.some(([p]) => p.endsWith('.sqlite-decoded'))).toBe(true);
        for (const [path, bytes] of files) {
          if (path.endsWith('coupa.json')) continue; // the config file itself holds the secret
          expectClean(path, bytes);
        }
      });
    }
  }
});

describe('secrets never leak at trace level either', () => {
  it('sync with the secret by env, --log-level trace', async () => {
    const dir = join(tmp.dir, 'sync-trace');
    mkdirSync(dir);
    const cred = credentials('env', dir);
    const run = await cli(
      [...cred.args, '-f', join(dir, 'out.c1z'), '--log-level', 'trace', '--log-format', 'json'],
      {
        env: cred.env,
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/coupa request/);
    expectRunClean('sync (trace)', run);
    for (const [path, bytes] of await filesUnder(dir)) expectClean(path, bytes);
  });
});

describe('a secret with reserved characters', () => {
  it('works and leaks in none of its encodings (raw, URL, form, Basic) at trace level', async () => {
    const odd = `p@ss:w+rd/ü%20 x&y="z"-${randomBytes(6).toString('hex')}`;
    const own = await testSimulator({ tenant: { users: 30 }, clientId: 'id:with+plus', clientSecret: odd });
    const dir = join(tmp.dir, 'odd');
    mkdirSync(dir);
    try {
      const run = await cli(
        [
          '--base-url',
          own.url,
          '--rate-limit',
          '0',
          '-f',
          join(dir, 'out.c1z'),
          '--log-level',
          'trace',
          '--log-format',
          'console',
        ],
        { env: { BATON_COUPA_CLIENT_ID: 'id:with+plus', BATON_COUPA_CLIENT_SECRET: odd }, cwd: dir },
      );
      expect(run.code, run.stderr).toBe(0);
      const form = new URLSearchParams({ s: odd }).toString().slice(2);
      const encodings = [
        odd,
        encodeURIComponent(odd),
        form,
        Buffer.from(`id:with+plus:${odd}`).toString('base64'),
        Buffer.from(`${encodeURIComponent('id:with+plus')}:${encodeURIComponent(odd)}`).toString('base64'),
        Buffer.from(`${new URLSearchParams({ s: 'id:with+plus' }).toString().slice(2)}:${form}`).toString(
          'base64',
        ),
        JSON.stringify(odd).slice(1, -1),
      ];
      const outputs: Array<[string, Buffer]> = [
        ['stdout', Buffer.from(run.stdout)],
        ['stderr', Buffer.from(run.stderr)],
        ...(await filesUnder(dir)),
      ];
      for (const [what, bytes] of outputs) {
        for (const e of encodings)
          expect(bytes.includes(Buffer.from(e)), `${what} holds ${e.slice(0, 8)}…`).toBe(false);
      }
    } finally {
      await own.close();
    }
  });
});

describe('secrets never leak from provisioning at debug level (grant, revoke, create-account)', () => {
  for (const [i, source] of (['flag', 'env', 'config file'] as const).entries()) {
    it(`secret by ${source}`, async () => {
      const dir = join(tmp.dir, `prov-${i}`);
      mkdirSync(dir);
      const gt = sim.groundTruth();
      const buyers = new Set(gt.memberships.roles.filter(([, r]) => r === 4).map(([u]) => u));
      const user = gt.users.find((u) => !buyers.has(u.id) && !u.apiUser && u.id > 10 * (i + 1))!;
      const cred = credentials(source, dir);
      const common = [
        ...cred.args,
        '-p',
        '--log-level',
        'debug',
        '--log-format',
        i === 1 ? 'console' : 'json',
        '--audit-log',
        join(dir, 'audit.jsonl'),
        '--journal',
        join(dir, 'journal.jsonl'),
      ];
      const runs: Array<[string, string[]]> = [
        ['grant', ['grant', 'role:4:member', String(user.id), ...common]],
        ['revoke', ['revoke', 'role:4:member', String(user.id), ...common]],
        [
          'create-account',
          [
            'create-account',
            '--login',
            `secret.test.${i}`,
            '--email',
            `secret.test.${i}@example.com`,
            '--profile',
            '{"firstname":"Secret","lastname":"Test"}',
            ...common,
          ],
        ],
      ];
      for (const [name, args] of runs) {
        const run = await cli(args, { env: cred.env, cwd: dir });
        expect(run.code, `${name}: ${run.stderr}`).toBe(0);
        expectRunClean(`${name} (${source})`, run);
      }
      // The writes happened, so the audit log has something to grep.
      expect(sim.tenant.users.find((u) => u.login === `secret.test.${i}`)).toBeDefined();
      const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
      expect(audit.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3);
      for (const [path, bytes] of await filesUnder(dir)) {
        if (path.endsWith('coupa.json')) continue;
        expectClean(path, bytes);
      }
    });
  }
});

describe('help and error messages never echo the secret', () => {
  it('--help of the root, sync and grant with BATON_COUPA_CLIENT_SECRET set', async () => {
    for (const args of [['--help'], ['sync', '--help'], ['grant', '--help'], ['create-account', '--help']]) {
      const run = await cli(args, {
        env: { BATON_COUPA_CLIENT_SECRET: SECRET, BATON_COUPA_CLIENT_ID: CLIENT_ID },
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/BATON_COUPA_CLIENT_SECRET/);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    }
  });

  it('a usage error with the secret in the environment and on the command line', async () => {
    const run = await cli(['sync', '--coupa-client-secret', SECRET, '--no-such-flag'], {
      env: { BATON_COUPA_CLIENT_SECRET: SECRET },
    });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it.each([
    ['a mistyped --coupa-client-secret=value', ['--coupa-client-secrt=VALUE'], '--coupa-client-secrt'],
    ['a mistyped ConductorOne --client-secret=value', ['--client-secrets=VALUE'], '--client-secrets'],
    ['the same on the sync command', ['sync', '--coupa-client-secrt=VALUE'], '--coupa-client-secrt'],
    ['a short flag glued to its value', ['-xVALUE'], "'-x'"],
  ])(
    '%s: exit 2, the option named, its value never printed (not in the environment either)',
    async (_, args, named) => {
      const value = `typo-${SECRET}`;
      const run = await cli(
        args.map((a) => a.replace('VALUE', value)),
        { env: {} },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(named);
      expect(run.stderr).toMatch(/unknown option/);
      expect(run.stdout + run.stderr).not.toContain(value);
      // Not even a piece of it (commander's message quoted the whole `--flag=value`).
      expect(run.stdout + run.stderr).not.toContain(SECRET.slice(-16));
    },
  );

  it.each([
    ['BATON_COUPA_CLIENT_SECRET', ['SECRET']],
    ['BATON_CLIENT_SECRET', ['SECRET']],
    ['BATON_COUPA_CLIENT_SECRET', ['--coupa-domain', 'acme', '--coupa-client-id', 'id', 'SECRET']],
  ])(
    'a secret typed as a word (shell slip) with %s set: exit 2, redacted in "Unknown command"/"too many arguments" (%j)',
    async (envName, args) => {
      const run = await cli(
        args.map((a) => (a === 'SECRET' ? SECRET : a)),
        { env: { [envName]: SECRET } },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/Unknown command|too many arguments/);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    },
  );

  it('a secret given by flag is known before parsing: a later bad word does not echo it', async () => {
    const run = await cli(['--coupa-client-secret', SECRET, `${SECRET}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "[REDACTED]"');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('a wrong secret: exit 3, the wrong secret is not echoed either', async () => {
    const wrong = `wrong-${SECRET}`;
    const run = await cli([
      '--base-url',
      spy.url,
      '--coupa-client-id',
      CLIENT_ID,
      '--coupa-client-secret',
      wrong,
      '-f',
      join(tmp.dir, 'wrong.c1z'),
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/invalid_client|credentials|401|400/i);
    expect(run.stdout + run.stderr).not.toContain(wrong);
    expectRunClean('wrong secret', run);
  });

  it('a 401 on every API call (token revoked): exit 3, no token or secret in the message', async () => {
    const remove = sim.faults.add({ match: { path: '/api/users' }, kind: 'revoke-token' });
    try {
      const run = await cli([
        '--base-url',
        spy.url,
        '--coupa-client-id',
        CLIENT_ID,
        '--coupa-client-secret',
        SECRET,
        '-f',
        join(tmp.dir, 'revoked.c1z'),
        '--log-level',
        'debug',
      ]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/401/);
      expectRunClean('401', run);
    } finally {
      remove();
    }
  });

  it('a validation error whose body echoes the secret and the live token: both redacted', async () => {
    // A hostile or buggy server puts the credentials into an error it returns; our message must
    // quote Coupa's text without them.
    const remove = sim.faults.add({
      match: { method: 'POST', path: '/api/users' },
      kind: 'transform',
      transform: () => ({
        // The newest token is this run's (the spy records each token answer before passing it on);
        // older ones belong to earlier processes and mean nothing to this one.
        errors: { user: [`Login is invalid (debug: secret=${SECRET} token=${[...spy.tokens].at(-1)})`] },
      }),
    });
    try {
      const run = await cli([
        'create-account',
        '-p',
        '--base-url',
        spy.url,
        '--coupa-client-id',
        CLIENT_ID,
        '--coupa-client-secret',
        SECRET,
        '--login',
        sim.tenant.users.get(1)!.login, // taken: Coupa answers 400, whose body the fault rewrites
        '--email',
        'echo.test@example.com',
        '--profile',
        '{"firstname":"E","lastname":"T"}',
        '--audit-log',
        join(tmp.dir, 'echo-audit.jsonl'),
        '--journal',
        join(tmp.dir, 'echo-journal.jsonl'),
        '--log-level',
        'debug',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/Login is invalid/);
      expect(run.stderr).toMatch(/debug: secret=\S+ token=\S+/);
      expectRunClean('echoing server', run);
    } finally {
      remove();
    }
  });

  it('a --config file that is not JSON: the error does not quote the file', async () => {
    const file = join(tmp.dir, 'broken.json');
    writeFileSync(file, `{"coupa-client-secret": "${SECRET}", oops}`);
    const run = await cli(['--base-url', spy.url, '--config', file, '-f', join(tmp.dir, 'broken.c1z')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not valid JSON/);
    expect(run.stderr).not.toContain(SECRET);
  });
});

describe('service mode: neither client secret, the JWK nor any token leaks at debug or trace', () => {
  /**
   * The fake ConductorOne in plain-http mode behind a TCP relay that keeps every byte it passes,
   * so the test learns each ConductorOne access token actually issued (from the token answers).
   */
  async function relayTo(port: number): Promise<{ port: number; bytes(): Buffer; close(): Promise<void> }> {
    const chunks: Buffer[] = [];
    const sockets = new Set<Socket>();
    const server = createNetServer((inbound) => {
      const outbound = connectNet(port, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.on('data', (d: Buffer) => chunks.push(d));
      outbound.on('data', (d: Buffer) => chunks.push(d));
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: (server.address() as AddressInfo).port,
      bytes: () => Buffer.concat(chunks),
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    };
  }

  for (const [level, format] of [
    ['debug', 'json'],
    ['trace', 'console'],
  ] as const) {
    it(`--log-level ${level} --log-format ${format}: sync and grant tasks`, async () => {
      const fake = await startFakeC1({ tls: false, nextPollMs: 200, nextHeartbeatMs: 1000 });
      const relay = await relayTo(fake.port);
      const dir = join(tmp.dir, `service-${level}`);
      mkdirSync(dir);
      const jwkB64 = fake.clientSecret.split(':')[3]!;
      const jwk = JSON.parse(Buffer.from(jwkB64, 'base64url').toString()) as { d: string };
      const env = {
        ...fake.env(),
        BATON_C1_API_HOST: `http://127.0.0.1:${relay.port}`,
        BATON_COUPA_CLIENT_ID: CLIENT_ID,
        BATON_COUPA_CLIENT_SECRET: SECRET,
      };
      const child = spawn(
        process.execPath,
        [
          cliBin(),
          '--base-url',
          spy.url,
          '--rate-limit',
          '0',
          '-p',
          '--log-level',
          level,
          '--log-format',
          format,
          '--c1z-temp-dir',
          dir,
          '--journal',
          join(dir, 'journal.jsonl'),
          '--audit-log',
          join(dir, 'audit.jsonl'),
        ],
        { cwd: dir, env: cleanEnv(env) },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      try {
        await fake.waitForHello({ timeoutMs: 30_000 });
        const sync = fake.tasks.syncFull();
        expect((await fake.waitForFinish(sync.id, { timeoutMs: 60_000 })).outcome).toBe('success');
        const gt = sim.groundTruth();
        const holders = new Set(gt.memberships.roles.filter(([, r]) => r === 4).map(([u]) => u));
        const user = gt.users.find((u) => !holders.has(u.id) && !u.apiUser && u.id > 90)!;
        const grant = fake.tasks.grant({
          entitlement: { id: 'role:4:member', resource: { id: { resourceType: 'role', resource: '4' } } },
          principal: { id: { resourceType: 'user', resource: String(user.id) } },
        });
        expect((await fake.waitForFinish(grant.id, { timeoutMs: 60_000 })).outcome).toBe('success');
        fake.tokens.expireAll(); // one more token, issued mid-run
        const again = fake.tasks.syncFull();
        expect((await fake.waitForFinish(again.id, { timeoutMs: 60_000 })).outcome).toBe('success');
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        await relay.close();
        await fake.close();
      }
      const c1Tokens = [
        ...relay
          .bytes()
          .toString('latin1')
          .matchAll(/"access_token":"([^"]+)"/g),
      ].map((m) => m[1]!);
      expect(c1Tokens.length).toBeGreaterThanOrEqual(2);
      // The run logged at the level asked, and about the tasks: the grep below is not vacuous.
      expect(stderr).toMatch(/ConductorOne token/);
      expect(stderr).toMatch(/c1z uploaded/);
      const needles = [fake.clientSecret, jwkB64, jwk.d, JSON.stringify(jwk), ...c1Tokens, ...forbidden()];
      for (const [what, text] of [
        ['stdout', Buffer.from(stdout)],
        ['stderr', Buffer.from(stderr)],
        ...(await filesUnder(dir)),
      ] as Array<[string, Buffer]>) {
        for (const n of needles) {
          expect(text.includes(Buffer.from(n)), `${what} holds ${n.slice(0, 6)}…`).toBe(false);
        }
      }
    }, 120_000);
  }
});
