import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyConfigFile, readConfigFile } from '../../src/cli/config-file.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/secrets.js';
import { tempDir } from '../helpers/temp-dir.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function file(name: string, content: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

describe('--config file', () => {
  it('accepts flag names and camelCase keys; flags and env (already in opts) win over the file', () => {
    const path = file(
      'ok.json',
      JSON.stringify({
        'coupa-domain': 'acme',
        coupaClientId: 'from-file',
        'coupa-client-secret': 'file-secret-1',
        'max-retries': 2,
      }),
    );
    const opts = applyConfigFile({ config: path, coupaClientId: 'from-flag' } as Record<string, unknown> & {
      config: string;
    });
    expect(opts).toMatchObject({
      coupaDomain: 'acme',
      coupaClientId: 'from-flag',
      coupaClientSecret: 'file-secret-1',
      maxRetries: 2,
    });
    // The secret read from the file is registered for scrubbing at once.
    expect(redact('x file-secret-1 y')).not.toContain('file-secret-1');
  });

  it('rejects unknown keys, wrong types and non-objects with a ConfigError that names the key, not the value', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['unknown.json', '{"coupa-client-secrett": "typo-secret-2"}', /unknown key "coupa-client-secrett"/],
      ['type.json', '{"coupa-client-secret": 12345678}', /"coupa-client-secret" .* must be a string/],
      ['retries.json', '{"max-retries": -1}', /whole number/],
      ['array.json', '["typo-secret-2"]', /one JSON object/],
      ['broken.json', '{"coupa-client-secret": "typo-secret-2",}', /not valid JSON/],
    ];
    for (const [name, content, message] of cases) {
      let err: unknown;
      try {
        readConfigFile(file(name, content));
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message + String((err as ConfigError).hint), name).not.toMatch(
        /typo-secret-2|12345678/,
      );
      expect((err as ConfigError).exitCode).toBe(2);
    }
  });

  it('a missing file is a ConfigError naming the path', () => {
    expect(() => readConfigFile(join(tmp.dir, 'nope.json'))).toThrow(
      /Cannot read the --config file .*nope\.json \(ENOENT\)/,
    );
  });
});
