import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';

/** The version in package.json (src/cli and dist/cli both sit two levels below it). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The commands closest to a mistyped one: within 40% of its length in edits, best first. */
export function suggestCommands(word: string, names: string[]): string[] {
  const w = word.toLowerCase();
  const scored = names
    .map((n) => ({ n, d: n.startsWith(w) && w.length >= 3 ? 0.5 : editDistance(w, n) }))
    .filter((s) => s.d <= Math.max(1, Math.floor(Math.max(w.length, s.n.length) * 0.4)))
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n));
  const best = scored[0]?.d;
  return scored.filter((s) => s.d === best).map((s) => s.n);
}

/**
 * The root command syncs when given no command, so commander would call a mistyped command name
 * "too many arguments". Say what it is instead, with the nearest real commands.
 */
export function unknownCommandError(program: Command, word: string): ConfigError {
  const names = program.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .map((c) => c.name());
  const near = suggestCommands(word, names);
  const name = program.name();
  return new ConfigError(
    `Unknown command "${word}".`,
    near.length
      ? `Did you mean ${near.map((n) => `\`${name} ${n}\``).join(' or ')}? \`${name} --help\` lists every command.`
      : `\`${name} --help\` lists every command.`,
  );
}

/**
 * A reader that goes away (`--help | head`, `grants | head`) ends the output; it is not an error.
 * Without a listener, Node turns the EPIPE into an uncaught exception with a stack trace.
 */
export function installPipeGuards(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if ((stream as { __pipeGuard?: boolean }).__pipeGuard) continue;
    (stream as { __pipeGuard?: boolean }).__pipeGuard = true;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return;
      throw err;
    });
  }
}
