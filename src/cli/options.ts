import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { LogFormat, LogLevel } from '../log.js';

/**
 * Flags shared with the Go connector keep its names, and each can also come from the matching
 * BATON_* environment variable (flag name upper-cased, dashes to underscores), as baton-sdk does.
 */
export function envName(flag: string): string {
  return 'BATON_' + flag.replace(/^-+/, '').replace(/-/g, '_').toUpperCase();
}

export function option(flags: string, description: string): Option {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1];
  const opt = new Option(flags, description);
  if (long) opt.env(envName(long));
  return opt;
}

export function addLogOptions(cmd: Command, defaults: { level?: LogLevel } = {}): Command {
  return cmd
    .addOption(
      option('--log-level <level>', 'log level')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
        .default(defaults.level ?? 'info'),
    )
    .addOption(
      option('--log-format <format>', 'log format (default: console on a terminal, json otherwise, as baton)')
        .choices(['json', 'console'])
        .default(defaultLogFormat()),
    );
}

/** baton's rule: humans at a terminal get console lines, pipes and log collectors get JSON. */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'console' : 'json';
}

export interface LogOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/**
 * Every numeric flag is range-checked: a value outside what makes sense (`--request-timeout 0`,
 * `--max-retries 1e9`, `--rate-limit 0.001`, which would wait 1000 s before each request) is a
 * usage error (exit 2) before anything runs, never a silent hang or a run that cannot succeed.
 */
export interface NumberRange {
  min: number;
  max: number;
  /** A value outside [min, max] that still means something, e.g. 0 = off. */
  also?: number;
}

function rangeText(r: NumberRange, unit = ''): string {
  return `${r.also !== undefined ? `${r.also} or ` : ''}between ${r.min}${unit} and ${r.max}${unit}`;
}

/** An argParser for a number in `range` (decimals allowed). */
export function parseNumberInRange(name: string, range: NumberRange) {
  return (value: string): number => {
    const n = Number(value);
    const ok =
      value.trim() !== '' && Number.isFinite(n) && (n === range.also || (n >= range.min && n <= range.max));
    if (!ok) throw new ConfigError(`${name} must be ${rangeText(range)}, got "${value}".`);
    return n;
  };
}

export function parsePositiveNumber(name: string, max = 1_000_000) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max)
      throw new ConfigError(`${name} must be a number above 0 and at most ${max}, got "${value}".`);
    return n;
  };
}

/** An argParser for a count, port or seed: an integer from `min` to `max`. */
export function parseWholeNumber(name: string, min: number, max = 1_000_000_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}".`);
    return n;
  };
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds of a Go duration ("1m30s", "1.5h", "300ms"), or undefined if `text` is not one. */
function goDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return text.length > 0 ? total : undefined;
}

/**
 * Accepts Go's duration syntax, as baton's flags do ("300ms", "2s", "1.5s", "1m30s", "2h45m"; units
 * h, m, s, ms, us, ns), or a bare number of milliseconds, within `range` (ms).
 */
export function parseDuration(name: string, range: NumberRange = { min: 0, max: 24 * 3600_000 }) {
  return (value: string): number => {
    const text = value.trim();
    const ms = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : goDurationMs(text);
    if (ms === undefined)
      throw new ConfigError(
        `${name} must be a duration like 100ms, 2s or 1m30s (units h, m, s, ms), got "${value}".`,
      );
    if (ms !== range.also && (ms < range.min || ms > range.max)) {
      throw new ConfigError(
        `${name} must be ${range.also !== undefined ? `${range.also} or ` : ''}between ${formatMs(range.min)} and ${formatMs(range.max)}, got "${value}".`,
      );
    }
    return ms;
  };
}

function formatMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const FALSE_WORDS = ['', '0', 'false', 'no', 'off'];
const TRUE_WORDS = ['1', 'true', 'yes', 'on'];

/**
 * Commander turns any value of a boolean option's environment variable into `true`, so
 * BATON_SKIP_ACCOUNT_GROUPS=false would switch the option on. Scripts and container specs write
 * `=false` and `=0` all the time; read them as the words they are, and reject anything else.
 */
export function applyBooleanEnv(cmd: Command): void {
  for (const opt of cmd.options) {
    if (opt.required || opt.optional || opt.negate || !opt.envVar) continue;
    const key = opt.attributeName();
    if (cmd.getOptionValueSource(key) !== 'env') continue;
    const raw = (process.env[opt.envVar] ?? '').trim().toLowerCase();
    if (FALSE_WORDS.includes(raw)) cmd.setOptionValueWithSource(key, false, 'env');
    else if (!TRUE_WORDS.includes(raw)) {
      throw new ConfigError(`${opt.envVar} must be true or false, got "${process.env[opt.envVar]}".`);
    }
  }
}
