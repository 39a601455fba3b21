import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { editDistance, suggestCommands } from '../../src/cli/terminal.js';
import { cleanEnv, cliBin, ROOT } from '../helpers/cli.js';
import { FIXTURE } from '../c1z/helpers.js';

function sh(script: string) {
  return spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    cwd: ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
  });
}
const bin = (args: string) => `${JSON.stringify(process.execPath)} ${JSON.stringify(cliBin())} ${args}`;

describe('did you mean', () => {
  it('a mistyped command names the nearest real ones (not "too many arguments"), exit 2', () => {
    const r = sh(bin('stast'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown command "stast". Did you mean `coupa-connector stats`?');
    expect(r.stderr).not.toContain('too many arguments');
    const far = sh(bin('xyzzy'));
    expect(far.status).toBe(2);
    expect(far.stderr).toContain('Unknown command "xyzzy".');
    expect(far.stderr).not.toContain('Did you mean');
    // after root options too
    expect(sh(bin('--log-level warn grnts')).stderr).toContain('`coupa-connector grants`');
  });

  it('suggestions: edits and swaps cost one, prefixes count, far words get none', () => {
    expect(editDistance('stast', 'stats')).toBe(1);
    expect(editDistance('sycn', 'sync')).toBe(1);
    const names = buildProgram('coupa-connector').commands.map((c) => c.name());
    expect(suggestCommands('sycn', names)).toContain('sync');
    expect(suggestCommands('principal', names)).toEqual(['principals']);
    expect(suggestCommands('entitlement', names)).toEqual(['entitlements']);
    expect(suggestCommands('banana', names)).toEqual([]);
  });
});

describe('--version, EPIPE', () => {
  it('-v and --version print the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    for (const flag of ['-v', '--version']) {
      const r = sh(bin(flag));
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('output into a closed pipe ends quietly: --help | head, grants | head', () => {
    const help = sh(`${bin('--help')} | head -1`);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    const grants = sh(`${bin(`grants -f ${JSON.stringify(FIXTURE)} -o csv`)} | head -2`);
    expect(grants.status, grants.stderr).toBe(0);
    expect(grants.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});

describe('hints name real commands', () => {
  it('every `coupa-connector <word>` in the sources is a command of the CLI (or prose)', () => {
    const commands = new Set(buildProgram('coupa-connector').commands.map((c) => c.name()));
    const prose = new Set(['process', 'fake']); // "another coupa-connector process", a CA's name
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(join(ROOT, 'src'));
    const bad: string[] = [];
    let seen = 0;
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/coupa-connector ([a-z][a-z0-9-]*)/g)) {
        seen++;
        if (!commands.has(m[1]!) && !prose.has(m[1]!)) bad.push(`${f}: coupa-connector ${m[1]}`);
      }
    }
    expect(seen).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('LICENSE holds the Apache-2.0 text package.json names; CHANGELOG.md exists', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toMatch(/^# Changelog/);
  });
});
