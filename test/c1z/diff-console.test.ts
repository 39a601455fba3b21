import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { createDiffCommand, runDiff } from '../../src/cli/commands/diff.js';
import { ConfigError, formatError } from '../../src/errors.js';
import type { InspectIo } from '../../src/cli/commands/inspect-output.js';
import { sampleData, useTempDirs, withMembership, writeSync } from './helpers.js';
import { TERMINAL_UNSAFE } from '../hardening/hostile-run.js';

const tempDir = useTempDirs();

function capture(): InspectIo & { text: () => string } {
  let out = '';
  return { out: (t) => void (out += t), err: () => {}, text: () => out };
}

describe('diff console output', () => {
  it('shows escape sequences and bidi overrides in names escaped, one change per line', async () => {
    const file = join(tempDir(), 'two.c1z');
    const base = sampleData(2);
    await writeSync(file, base);
    const osc = '\x1b]0;pwned\x07Role';
    const rlo = 'Buyers \u202egpj.exe';
    await writeSync(
      file,
      withMembership(withMembership(base, 'role', '77', osc), 'group', '78', `${rlo}\r\nx`),
    );
    const io = capture();
    await runDiff({ file, output: 'console' }, io);
    const text = io.text();
    expect(text, JSON.stringify(text)).not.toMatch(TERMINAL_UNSAFE);
    expect(text).toContain('\\x1b]0;pwned\\x07Role');
    expect(text).toContain('Buyers \\u202egpj.exe');
    // Every change stays on its own line: the role, the group, their entitlements and grants.
    const lines = text.split('\n').filter((l) => l.startsWith('  '));
    expect(lines.filter((l) => l.includes('pwned'))).toHaveLength(3);
    expect(lines.filter((l) => l.includes('gpj.exe'))).toHaveLength(3);
  });
});

describe('diff arguments', () => {
  async function diffCli(...args: string[]): Promise<string> {
    const io = capture();
    const program = new Command('coupa-connector').exitOverride();
    createDiffCommand(io).register(program);
    await program.parseAsync(['diff', ...args], { from: 'user' });
    return io.text();
  }

  it('files as arguments and -f together: refused, since one of them would be ignored', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.c1z');
    const b = join(dir, 'b.c1z');
    await writeSync(a, sampleData(2));
    await writeSync(b, withMembership(sampleData(2), 'role', '77', 'Auditor'));
    for (const args of [
      [a, '-f', b],
      [a, b, '-f', b],
      [a, '--file', b],
    ]) {
      const err = await diffCli(...args).catch((e: unknown) => e);
      expect(err, args.join(' ')).toBeInstanceOf(ConfigError);
      expect(formatError(err)).toMatch(/either as arguments or with -f, not both/);
    }
    // Each form alone still works.
    expect(await diffCli(a, b)).toContain('role 77 Auditor was added');
    expect(await diffCli('--base-file', a, '-f', b)).toContain('role 77 Auditor was added');
  });
});
