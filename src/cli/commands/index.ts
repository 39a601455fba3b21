import type { CliCommand } from '../command.js';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: CliCommand[] = [];
