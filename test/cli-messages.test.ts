import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { createInspectCommand } from '../src/cli/commands/inspect.js';
import { formatError } from '../src/errors.js';
import { FIXTURE } from './c1z/helpers.js';

/** The error parsing `args` throws, before any command runs (actions are replaced by no-ops). */
async function parseError(args: string[]): Promise<Error> {
  const program = buildProgram('coupa-connector');
  const stub = (c: Command): void => {
    c.action(() => undefined);
    c.commands.forEach(stub);
  };
  stub(program);
  try {
    await program.parseAsync(['node', 'coupa-connector', ...args]);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`no error for ${args.join(' ')}`);
}

describe('error messages say one thing once', () => {
  it('--task-concurrency: the same range whether the value is too small or too large', async () => {
    const low = formatError(await parseError(['--task-concurrency', '0']));
    const high = formatError(await parseError(['--task-concurrency', '101']));
    expect(low).toBe('--task-concurrency must be a whole number from 1 to 100, got "0".');
    expect(high).toBe('--task-concurrency must be a whole number from 1 to 100, got "101".');
  });

  it.each([
    [['simulate', '--drift', 'blah'], '--drift: "blah" is not key=n.'],
    [['simulate', '--latency', 'uniform:1s'], '--latency: uniform needs min-max, e.g. uniform:300ms-3s.'],
    [['simulate', '--ids', 'sparse:gap=x'], '--ids: "gap=x" is not key=number.'],
  ])('%j: the flag named once, no doubled prefix', async (args, message) => {
    expect(formatError(await parseError(args))).toBe(message);
  });

  it('stats --sync-id <unknown>: points at `syncs`, which lists the ids the file holds', async () => {
    const program = new Command('coupa-connector').exitOverride();
    createInspectCommand({ out: () => {}, err: () => {} }).register(program);
    const err = await program
      .parseAsync(['stats', '-f', FIXTURE, '--sync-id', 'nope'], { from: 'user' })
      .catch((e: unknown) => e);
    const text = formatError(err);
    expect(text).toContain('there is no sync with id nope');
    expect(text).toContain(`syncs -f ${FIXTURE}`);
    expect(text).not.toContain('Re-run the sync');
  });
});
