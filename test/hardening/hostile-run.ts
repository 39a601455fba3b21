import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cleanEnv, cliBin, ROOT } from '../helpers/cli.js';
import type { HostileServer } from './hostile-server.js';
import { FIXTURE } from '../c1z/helpers.js';

const PRELOAD = join(ROOT, 'test/hardening/fixtures/peak-rss.mjs');

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the CLI process, in MiB. */
  peakMiB: number;
}

/** Runs the built CLI with its peak RSS recorded (see fixtures/peak-rss.mjs). */
export function runMeasured(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; dir: string; timeoutMs?: number },
): Promise<MeasuredRun> {
  const rssFile = join(opts.dir, `.rss-${Math.random().toString(36).slice(2)}`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', PRELOAD, cliBin(), ...args], {
      cwd: opts.cwd ?? opts.dir,
      env: cleanEnv({ ...opts.env, PEAK_RSS_FILE: rssFile }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (stdout.length < 64 * 1024 * 1024) stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4 * 1024 * 1024) stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      const peakKiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN;
      done({ code, stdout, stderr, peakMiB: Math.round(peakKiB / 1024) });
    });
  });
}

/** Connection flags for the hostile server, quiet logs so stderr holds only the error line. */
export function hostileArgs(s: HostileServer, extra: string[] = []): string[] {
  return [
    'sync',
    '--base-url',
    s.url,
    '--coupa-client-id',
    s.clientId,
    '--rate-limit',
    '0',
    '--max-retries',
    '2',
    '--request-timeout',
    '20s',
    '--log-level',
    'silent',
    '--no-progress',
    ...extra,
  ];
}

export function secretEnv(s: HostileServer): Record<string, string> {
  return { BATON_COUPA_CLIENT_SECRET: s.clientSecret };
}

/** Characters a terminal acts on: none may reach a human-facing line. */
// eslint-disable-next-line no-control-regex
export const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** stderr is exactly one line, with no terminal control in it. */
export function expectOneCleanLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr.slice(0, 2000)).toHaveLength(1);
  expect(TERMINAL_UNSAFE.test(lines[0]!)).toBe(false);
  return lines[0]!;
}

/**
 * An earlier output file (a real c1z, which the sync would join), to prove a failed run leaves it
 * alone.
 */
export function previousOutput(dir: string, name = 'out.c1z'): { path: string; intact(): void } {
  const path = join(dir, name);
  const content = readFileSync(FIXTURE);
  writeFileSync(path, content);
  const before = readdirSync(dir)
    .filter((f) => !f.startsWith('.rss-'))
    .sort();
  return {
    path,
    intact() {
      expect(readFileSync(path).equals(content)).toBe(true);
      expect(
        readdirSync(dir)
          .filter((f) => !f.startsWith('.rss-'))
          .sort(),
      ).toEqual(before);
    },
  };
}
