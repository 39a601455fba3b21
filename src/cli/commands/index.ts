import type { CliCommand } from '../command.js';
import { rootCommand } from './root.js';
import { syncCommand } from './sync.js';
import { demoCommand } from './demo.js';
import { capabilitiesCommand } from './capabilities.js';
import { grantCommand, revokeCommand } from './grant.js';
import { createAccountCommand, disableUserCommand, enableUserCommand } from './accounts.js';
import { recoverCommand } from './recover.js';
import { simulateCommand } from './simulate.js';
import { simulateC1Command } from './simulate-c1.js';
import { inspectCommand } from './inspect.js';
import { syncsCommand } from './syncs.js';
import { userCommand } from './user.js';
import { reviewCommand } from './review.js';
import { reportCommand } from './report.js';
import { diffCommand } from './diff.js';
import { principalsCommand } from './principals.js';
import { exportCommand } from './export.js';
import { nameEnvSources } from '../env-source.js';
import { addExitCodesHelp } from '../exit-codes-help.js';

/**
 * Not a command: runs after every command above is registered, so each option of every command
 * exists when its parser is wrapped (a bad BATON_* value is then reported under its own name).
 */
const envSourceNames: CliCommand = { register: (program) => nameEnvSources(program) };

/** Not a command: the exit-code table, last in the main --help (after the root's own text). */
const exitCodes: CliCommand = { register: (program) => addExitCodesHelp(program) };

/** Every command of the CLI, in the order `--help` lists them; then what applies to all of them. */
export const commands: CliCommand[] = [
  rootCommand,
  syncCommand,
  demoCommand,
  capabilitiesCommand,
  grantCommand,
  revokeCommand,
  createAccountCommand,
  enableUserCommand,
  disableUserCommand,
  recoverCommand,
  simulateCommand,
  simulateC1Command,
  inspectCommand,
  syncsCommand,
  userCommand,
  reviewCommand,
  reportCommand,
  diffCommand,
  principalsCommand,
  exportCommand,
  envSourceNames,
  exitCodes,
];
