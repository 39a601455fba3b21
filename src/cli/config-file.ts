import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../secrets.js';

/**
 * `--config <file>` (BATON_CONFIG): connection settings from a JSON file, so the client secret
 * need not sit in a shell history or a process listing. Flags and BATON_* variables win over the
 * file; the file only fills what neither gave.
 *
 * ```json
 * { "coupa-domain": "acme", "coupa-client-id": "…", "coupa-client-secret": "…" }
 * ```
 *
 * Keys are the flag names without dashes-prefix (`coupa-client-secret`) or their camelCase form
 * (`coupaClientSecret`). Nothing read from the file is ever echoed in an error: the file holds a
 * secret, and a JSON parser's message quotes the text around the mistake.
 */

/** What the file may set: the connection flags that have no default of their own. */
export interface ConfigFileValues {
  coupaDomain?: string;
  coupaClientId?: string;
  coupaClientSecret?: string;
  baseUrl?: string;
  maxRetries?: number;
}

/** Same bound as --max-retries (connection.ts). */
const MAX_RETRIES_LIMIT = 50;

const STRING_KEYS = ['coupaDomain', 'coupaClientId', 'coupaClientSecret', 'baseUrl'] as const;
const KNOWN: ReadonlyArray<keyof ConfigFileValues> = [...STRING_KEYS, 'maxRetries'];

function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Reads and checks the file; errors name the file and the key, never a value. */
export function readConfigFile(path: string): ConfigFileValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(
      `Cannot read the --config file ${path} (${code}).`,
      'Check the path and its permissions.',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Deliberately without the parser's message: it quotes the file's text, secret included.
    throw new ConfigError(
      `The --config file ${path} is not valid JSON.`,
      'It must be one JSON object, e.g. {"coupa-domain": "acme", "coupa-client-id": "…", "coupa-client-secret": "…"}.',
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`The --config file ${path} must hold one JSON object.`);
  }
  const out: ConfigFileValues = {};
  for (const [rawKey, value] of Object.entries(parsed as Record<string, unknown>)) {
    const key = camel(rawKey.replace(/^-+/, '')) as keyof ConfigFileValues;
    if (!KNOWN.includes(key)) {
      throw new ConfigError(
        `The --config file ${path} has an unknown key "${rawKey}".`,
        `Known keys: ${KNOWN.map((k) => flagName(k).slice(2)).join(', ')}.`,
      );
    }
    if (value === null || value === undefined) continue;
    if (key === 'maxRetries') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RETRIES_LIMIT) {
        throw new ConfigError(
          `"${rawKey}" in the --config file ${path} must be a whole number from 0 to ${MAX_RETRIES_LIMIT}.`,
        );
      }
      out.maxRetries = value;
    } else {
      if (typeof value !== 'string') {
        throw new ConfigError(`"${rawKey}" in the --config file ${path} must be a string.`);
      }
      out[key] = value;
    }
  }
  registerSecret(out.coupaClientSecret);
  return out;
}

/**
 * Fills the options that flags and environment left unset from `opts.config`, in place, so that
 * every later reader of the options (the client, the provisioning journal's base URL) sees them.
 */
export function applyConfigFile<T extends ConfigFileValues & { config?: string }>(
  opts: T,
  warn?: (message: string) => void,
): T {
  if (!opts.config) return opts;
  const fromFile = readConfigFile(opts.config);
  if (warn) {
    const loose = looseModeOf(opts.config);
    if (loose) warn(loose);
  }
  for (const key of KNOWN) {
    if (opts[key] === undefined && fromFile[key] !== undefined) {
      (opts as ConfigFileValues)[key] = fromFile[key] as never;
    }
  }
  return opts;
}

const warnedLoose = new Set<string>();

/**
 * A warning when the file can be read by its group or by everyone: it holds the client secret.
 * Said once per file and process. Undefined when the mode is fine (or cannot be told, e.g. on
 * Windows, where the mode bits do not describe who can read).
 */
export function looseModeOf(path: string): string | undefined {
  if (process.platform === 'win32' || warnedLoose.has(path)) return undefined;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  warnedLoose.add(path);
  const who = mode & 0o007 ? 'everyone on this machine' : 'its group';
  return `the --config file ${path} (mode ${mode.toString(8).padStart(4, '0')}) can be read by ${who}, and it holds the client secret; run chmod 600 ${path}`;
}
