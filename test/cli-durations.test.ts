import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { parseDuration } from '../src/cli/options.js';
import { ConfigError } from '../src/errors.js';

const parse = parseDuration('--request-timeout', { min: 0, max: 48 * 3600_000 });

describe('durations as Go writes them (baton takes Go durations)', () => {
  it.each([
    ['100', 100],
    ['100ms', 100],
    ['2s', 2000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['1h2m3s4ms', 3_723_004],
    ['2s500ms', 2500],
    ['1500us', 1.5],
    ['0', 0],
    ['0s', 0],
    // Go takes a bare decimal point on either side.
    ['.5s', 500],
    ['1.s', 1000],
  ])('%s = %d ms', (text, ms) => {
    expect(parse(text)).toBe(ms);
  });

  it.each(['', 'm', '1m30', '1x', '1 m', '-1s', 's1', '1m 30s', '.', '1ms2h3', '1d'])(
    '%j is refused with the accepted forms named',
    (text) => {
      expect(() => parse(text)).toThrow(ConfigError);
      expect(() => parse(text)).toThrow(/like 100ms, 2s or 1m30s/);
    },
  );

  it('the range is still checked after adding up the parts', () => {
    const timeout = parseDuration('--request-timeout', { min: 100, max: 30 * 60_000 });
    expect(timeout('29m59s')).toBe(1_799_000);
    expect(() => timeout('30m1s')).toThrow(/between 100ms and 30m/);
  });

  it('demo --latency takes the forms simulate --latency takes', async () => {
    const values: Record<string, number> = {};
    for (const v of ['100ms', '1s', '250']) {
      const program = buildProgram('coupa-connector');
      const demo = program.commands.find((c) => c.name() === 'demo')!;
      demo.action((opts: { latency: number }) => void (values[v] = opts.latency));
      await program.parseAsync(['node', 'coupa-connector', 'demo', '--latency', v]);
    }
    expect(values).toEqual({ '100ms': 100, '1s': 1000, '250': 250 });
    const program = buildProgram('coupa-connector');
    program.commands.forEach((c: Command) => c.action(() => undefined));
    await expect(program.parseAsync(['node', 'coupa-connector', 'demo', '--latency', '2m'])).rejects.toThrow(
      /--latency must be between 0ms and 1m/,
    );
  });
});
