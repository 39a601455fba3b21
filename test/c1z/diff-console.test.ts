import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiff } from '../../src/cli/commands/diff.js';
import type { InspectIo } from '../../src/cli/commands/inspect-output.js';
import { sampleData, useTempDirs, withMembership, writeSync } from './helpers.js';

const tempDir = useTempDirs();

/** What a terminal acts on: C0 controls but newline, DEL, C1 controls, bidi and invisible formatting. */
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

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
    await writeSync(file, withMembership(withMembership(base, 'role', '77', osc), 'group', '78', `${rlo}\r\nx`));
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
