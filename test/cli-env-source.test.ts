import { afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';

/** Parses `args` with `env` set, returning the error thrown (the CLI prints its message). */
async function parseError(args: string[], env: Record<string, string>): Promise<Error> {
  Object.assign(process.env, env);
  const program = buildProgram('coupa-connector');
  // No action may run: every case fails while its options are parsed.
  for (const c of [program, ...program.commands]) c.action(() => undefined);
  try {
    await program.parseAsync(['node', 'coupa-connector', ...args]);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

const set: string[] = [];
afterEach(() => {
  for (const k of set.splice(0)) delete process.env[k];
});
const env = (vars: Record<string, string>) => (set.push(...Object.keys(vars)), vars);

describe('a bad value names where it came from', () => {
  it('from BATON_RATE_LIMIT: the variable is named, not the flag the user never typed', async () => {
    const err = await parseError(['sync'], env({ BATON_RATE_LIMIT: 'abc' }));
    expect(err.message).toMatch(/^BATON_RATE_LIMIT \(the environment variable for --rate-limit\) must be/);
    expect(err.message).toContain('got "abc"');
  });

  it('from --rate-limit on the command line: the flag is named', async () => {
    const err = await parseError(['sync', '--rate-limit', 'abc'], {});
    expect(err.message).toMatch(/^--rate-limit must be/);
  });

  it('a bad flag beside a good variable: the flag is named', async () => {
    const err = await parseError(['sync', '--rate-limit', 'xyz'], env({ BATON_RATE_LIMIT: '5' }));
    expect(err.message).toMatch(/^--rate-limit must be .*got "xyz"/);
  });

  it('root options too: BATON_TASK_CONCURRENCY', async () => {
    const err = await parseError([], env({ BATON_TASK_CONCURRENCY: '0' }));
    expect(err.message).toMatch(
      /^BATON_TASK_CONCURRENCY \(the environment variable for --task-concurrency\)/,
    );
  });
});
