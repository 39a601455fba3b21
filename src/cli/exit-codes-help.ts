import type { Command } from 'commander';
import { ExitCode } from '../errors.js';

/**
 * The exit codes as the README's table states them (test/cli-help.test.ts keeps the two in step),
 * for the end of the main `--help`: scripts branch on them, so their meaning is part of the help.
 */
const EXIT_CODES: [number, string][] = [
  [ExitCode.ok, 'done'],
  [
    ExitCode.failure,
    'failed (e.g. Coupa answered something unexpected, a response over --max-response-mb, a list that kept growing; ' +
      'the message names the endpoint and field; or another process kept the user locked past --lock-timeout)',
  ],
  [
    ExitCode.usage,
    "bad flags, configuration or input (e.g. --coupa-domain 'no such!', an out-of-range number, -f/--out naming a device, " +
      'FIFO, directory or missing folder, an id above 2^53, a user or entitlement id Coupa does not know, a filter naming ' +
      'nothing in the file, a corrupt c1z or one over the decoder limits)',
  ],
  [
    ExitCode.auth,
    'Coupa refused the credentials or a scope, or (service mode) ConductorOne refused the client id and secret, ' +
      'at start or once they were revoked or rotated',
  ],
  [ExitCode.unavailable, 'Coupa could not be reached, or kept failing past the retry budget'],
  [
    ExitCode.needsRecovery,
    'a provisioning change was left half-done or could not be confirmed: run coupa-connector recover -p',
  ],
  [
    ExitCode.interrupted,
    'stopped by SIGINT/SIGTERM. Service mode stops gracefully on the first signal and then exits 0 (a stop is ' +
      'what systemd and Kubernetes ask for); a second signal quits at once with 130',
  ],
];

const WIDTH = 100;
const INDENT = 7;

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && INDENT + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function exitCodesHelp(): string {
  const rows = EXIT_CODES.flatMap(([code, meaning]) =>
    wrap(meaning).map(
      (l, i) => `${i === 0 ? `  ${String(code).padEnd(INDENT - 2)}` : ' '.repeat(INDENT)}${l}`,
    ),
  );
  return `\nExit codes:\n${rows.join('\n')}`;
}

/** Adds the section after everything else the main help prints. */
export function addExitCodesHelp(program: Command): void {
  program.addHelpText('after', exitCodesHelp());
}
