import type { CliCommand } from '../command.js';
import { grantCommand, revokeCommand } from './grant.js';
import { createAccountCommand, disableUserCommand, enableUserCommand } from './accounts.js';
import { recoverCommand } from './recover.js';
import { simulateCommand } from './simulate.js';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: CliCommand[] = [
  grantCommand,
  revokeCommand,
  createAccountCommand,
  enableUserCommand,
  disableUserCommand,
  recoverCommand,
  simulateCommand,
];
