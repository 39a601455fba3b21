import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { ExitCode, exitCodeOf, formatError } from '../errors.js';
import { redact } from '../secrets.js';
import { applyBooleanEnv } from './options.js';
import { safeText } from '../util/safe-text.js';

export function buildProgram(name: string): Command {
  const program = new Command(name)
    .description(
      'Reads who can do what in Coupa into a baton c1z file, changes it on request (--provisioning), ' +
        'inspects c1z files, and runs a Coupa API simulator for demos and tests.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (thisCommand, actionCommand) => {
      applyBooleanEnv(thisCommand);
      if (actionCommand !== thisCommand) applyBooleanEnv(actionCommand);
    });
  for (const command of commands) command.register(program);
  return program;
}

export async function main(argv: string[], name = 'coupa-connector'): Promise<void> {
  const program = buildProgram(name);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed help, the version or the usage error.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    // One line, whatever the server's text quoted in the message holds.
    process.stderr.write(`${name}: ${safeText(redact(formatError(err)))}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
