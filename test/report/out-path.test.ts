import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateReport } from '../../src/report/index.js';
import { runReport } from '../../src/cli/commands/report.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { sampleData, useTempDirs, writeSync } from '../c1z/helpers.js';

const tempDir = useTempDirs();

describe('report --out', () => {
  it('an unusable path is a usage error (2) found before the c1z is read', async () => {
    const dir = tempDir();
    const file = join(dir, 'one.c1z');
    await writeSync(file, sampleData(2));
    const phases: string[] = [];
    for (const out of [join(dir, 'no-such-dir', 'r.html'), dir]) {
      const err = await generateReport({ file, out, onPhase: (p) => phases.push(p) }).catch(
        (e: unknown) => e,
      );
      expect(err, out).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(ExitCode.usage);
      expect((err as Error).message).toContain('--out');
    }
    expect(phases).toEqual([]);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    // The CLI says so before it prints "reading …".
    let err = '';
    await expect(
      runReport(
        { file, out: join(dir, 'no-such-dir', 'r.html'), compare: true },
        { out: () => {}, err: (t) => void (err += t) },
      ),
    ).rejects.toThrow(/no-such-dir/);
    expect(err).toBe('');
  });
});
