import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cliBin } from '../helpers/cli.js';
import { simulatorToken } from '../helpers/simulator.js';
import { syncInstructions } from '../../src/cli/commands/simulate.js';
import { resolveBaseUrl } from '../../src/coupa/index.js';

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

describe('simulate: where it listens and how to reach it', () => {
  it('a port already in use: exit 2 with a hint (another port, or --port 0), not a raw EADDRINUSE', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const { io, exited } = simulate(['--port', String(port), '--users', '5']);
      expect(await exited).toBe(2);
      expect(io.err).toMatch(new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use`));
      expect(io.err).toContain('--port 0');
      expect(io.err).not.toMatch(/^Error|at .*\(node:/m);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it.each(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::', '192.168.1.5', '10.0.0.7'])(
    'listening on %s: every --base-url it suggests is one the connector accepts',
    (host) => {
      const listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:8443`;
      const lines = syncInstructions(listenUrl, 'id', 'secret');
      const suggested = lines.flatMap((l) => [...l.matchAll(/--base-url (\S+)/g)].map((m) => m[1]!));
      for (const url of suggested) expect(() => resolveBaseUrl({ baseUrl: url })).not.toThrow();
      if (['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host)) {
        // On this machine it can always be reached over loopback.
        expect(suggested).toHaveLength(1);
      } else {
        // Plain http to another host is refused: say what to do instead of printing a command that fails.
        expect(suggested).toEqual([]);
        expect(lines.join('\n')).toMatch(/https/);
      }
    },
  );
});
