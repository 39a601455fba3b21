import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliBin } from '../helpers/cli.js';
import { simulatorToken } from '../helpers/simulator.js';

/** Runs `simulate --port 0 ...args` (the CLI built from current source), collecting what it prints. */
function simulate(args: string[]) {
  const child = spawn(process.execPath, [cliBin(), 'simulate', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (io.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (io.err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, io, exited };
}

describe('coupa-connector simulate', () => {
  it('prints URL, credentials and a sync command, serves the API, and stops cleanly on SIGTERM', async () => {
    const { child, io, exited } = simulate([
      '--users',
      '40',
      '--seed',
      '5',
      '--no-rate-limit',
      '--client-id',
      'cli-test-id',
      '--client-secret',
      'cli-test-secret-123',
      '--latency',
      '5ms',
    ]);
    try {
      const deadline = Date.now() + 20_000;
      while (!io.out.includes('Ctrl-C') && Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`simulate exited early: ${io.err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out)?.[1];
      expect(url, io.out + io.err).toBeDefined();
      expect(io.out).toContain('client id:     cli-test-id');
      expect(io.out).toContain('client secret: cli-test-secret-123');
      expect(io.out).toContain(
        `coupa-connector sync --base-url ${url} --coupa-client-id cli-test-id --coupa-client-secret cli-test-secret-123`,
      );
      const access_token = await simulatorToken({
        url: url!,
        clientId: 'cli-test-id',
        clientSecret: 'cli-test-secret-123',
      });
      const users = await fetch(`${url}/api/users?offset=0`, {
        headers: { Authorization: `Bearer ${access_token}`, Accept: 'application/json' },
      });
      expect(((await users.json()) as unknown[]).length).toBe(40);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(io.out).toContain('Coupa simulator stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('rejects an unknown license flag with a usage error', async () => {
    const { io, exited } = simulate(['--unrevokable-licenses', 'purchasing-user,warp-user']);
    expect(await exited).toBe(2);
    expect(io.err).toContain('warp-user');
  });
});
