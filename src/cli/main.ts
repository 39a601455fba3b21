import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { ExitCode, exitCodeOf, formatError } from '../errors.js';
import { redact } from '../secrets.js';
import { applyBooleanEnv } from './options.js';
import { safeLines, safeText } from '../util/safe-text.js';
import { installPipeGuards, packageVersion, unknownCommandError } from './terminal.js';
import { optionNameOnly, registerSecretsBeforeParsing } from './early-secrets.js';

/**
 * Commander quotes an unknown option exactly as typed, so `--coupa-client-secrt=S3cr3t` would print
 * the secret; every command of the program (subcommands are made by createCommand) names the
 * option only. `unknownOption` is commander's own hook for that message (not in its typings).
 */
class SafeCommand extends Command {
  override createCommand(name?: string): Command {
    return new SafeCommand(name);
  }

  unknownOption(flag: string): void {
    const base = Command.prototype as unknown as { unknownOption(this: Command, flag: string): void };
    base.unknownOption.call(this, optionNameOnly(flag));
  }
}

export function buildProgram(name: string): Command {
  const program = new SafeCommand(name)
    .description(
      'Reads who can do what in Coupa into a baton c1z file, changes it on request (--provisioning), ' +
        'inspects c1z files, and runs a Coupa API simulator for demos and tests.',
    )
    .version(packageVersion(), '-v, --version', 'print the version and exit')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Commander's own messages (usage errors, help after an error) pass the same scrubber as ours.
    // Set before the subcommands exist: they copy it when created.
    .configureOutput({
      writeErr: (text) => process.stderr.write(safeLines(redact(text))),
    })
    .hook('preAction', (thisCommand, actionCommand) => {
      // The root syncs when given no command: a word left over is a mistyped command name.
      if (actionCommand === program && program.args.length > 0)
        throw unknownCommandError(program, program.args[0]!);
      applyBooleanEnv(thisCommand);
      if (actionCommand !== thisCommand) applyBooleanEnv(actionCommand);
    });
  for (const command of commands) command.register(program);
  // Root only (set after the subcommands exist, so they keep refusing extra words): the
  // preAction hook names the mistyped command instead of "too many arguments".
  program.allowExcessArguments(true);
  return program;
}

export async function main(argv: string[], name = 'coupa-connector'): Promise<void> {
  installPipeGuards();
  registerSecretsBeforeParsing(argv, process.env);
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
