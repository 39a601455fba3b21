import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';

/** What `coupa-connector <path…> --help` prints, the text added after the options included. */
function helpOf(...path: string[]): string {
  let cmd: Command = buildProgram('coupa-connector');
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  let text = '';
  cmd.configureOutput({ writeOut: (t) => void (text += t), writeErr: (t) => void (text += t) });
  cmd.outputHelp();
  return text;
}

const squash = (t: string) => t.replace(/\s+/g, ' ').trim();

describe('--help', () => {
  it('the main help has an "Exit codes" section with the README table', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('the exit code says what happened'));
    const rows = [...table.matchAll(/^\| (\d+) +\| (.+?) +\|$/gm)].map((m) => [
      m[1]!,
      m[2]!.replace(/`/g, ''),
    ]);
    expect(rows.map((r) => r[0])).toEqual(['0', '1', '2', '3', '4', '5', '130']);
    const help = helpOf();
    expect(help).toMatch(/\nExit codes:\n/);
    const section = squash(help.slice(help.indexOf('Exit codes:')));
    for (const [code, meaning] of rows) expect(section).toContain(`${code} ${squash(meaning!)}`);
  });

  it.each([
    ['grant'],
    ['revoke'],
    ['create-account'],
    ['recover'],
    ['simulate'],
    ['access'],
    ['report'],
    ['user'],
    ['review'],
    ['review', 'inactive-access'],
  ])('%s --help shows examples', (...path) => {
    const help = helpOf(...path);
    expect(help).toMatch(/\nExamples:\n {2}\$ coupa-connector /);
    // Every example runs the command it documents.
    for (const line of help.split('\n').filter((l) => l.startsWith('  $ ')))
      expect(line.startsWith(`  $ coupa-connector ${path[0]}`), line).toBe(true);
  });

  it('sync --help names BATON_KEEP_SYNC_COUNT, the syncs a file keeps', () => {
    expect(helpOf('sync')).toMatch(/BATON_KEEP_SYNC_COUNT.*default 2/s);
  });

  it('simulate --help says the built-in client id and secret are printed at start and are throw-away', () => {
    const help = squash(helpOf('simulate'));
    expect(help).toMatch(/client id and secret it accepts \(throw-away values/);
    expect(help).toContain('printed at start');
  });
});
