import type { Command } from 'commander';

/**
 * One CLI command = one module exporting a `CliCommand`. Commands stay thin: they parse options,
 * wire the layers below together and print; logic lives in src/coupa, src/connector and src/c1z.
 */
export interface CliCommand {
  /** Adds the command (or root options) to the program. */
  register(program: Command): void;
}
