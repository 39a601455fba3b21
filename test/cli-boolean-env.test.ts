import { afterEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { applyBooleanEnv, option } from '../src/cli/options.js';
import { ConfigError } from '../src/errors.js';

function parse(envValue: string | undefined): boolean | undefined {
  if (envValue === undefined) delete process.env.BATON_SKIP_ACCOUNT_GROUPS;
  else process.env.BATON_SKIP_ACCOUNT_GROUPS = envValue;
  const cmd = new Command('t').addOption(option('--skip-account-groups', 'x')).exitOverride();
  cmd.parse([], { from: 'user' });
  applyBooleanEnv(cmd);
  return cmd.opts().skipAccountGroups as boolean | undefined;
}

describe('boolean options from BATON_* variables', () => {
  afterEach(() => delete process.env.BATON_SKIP_ACCOUNT_GROUPS);

  it.each(['false', 'FALSE', '0', 'no', 'off', ''])('reads %j as false', (v) => {
    expect(parse(v)).toBe(false);
  });

  it.each(['true', '1', 'yes', 'on'])('reads %j as true', (v) => {
    expect(parse(v)).toBe(true);
  });

  it('leaves the option unset when the variable is absent', () => {
    expect(parse(undefined)).toBeUndefined();
  });

  it('rejects a value that is neither', () => {
    expect(() => parse('maybe')).toThrow(ConfigError);
  });
});
