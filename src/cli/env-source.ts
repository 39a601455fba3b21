import type { EventEmitter } from 'node:events';
import type { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';

/**
 * A bad value from a BATON_* variable is reported under the variable's name, not the flag's: a
 * user who never typed `--rate-limit` and reads "--rate-limit must be …" looks in the wrong place.
 *
 * Commander parses the command line first and the environment after it, announcing each
 * environment value with an `optionEnv:<name>` event just before it calls the option's parser; a
 * listener put in front of commander's own marks that moment, and the wrapped parser renames the
 * flag in a ConfigError thrown from it.
 */
export function nameEnvSources(cmd: Command): void {
  // A Command is an EventEmitter at run time; its typings only declare `on`.
  const events = cmd as unknown as EventEmitter;
  for (const opt of cmd.options as Option[]) {
    const parse = opt.parseArg;
    const envVar = opt.envVar;
    if (!parse || !envVar) continue;
    let fromEnv = false;
    events.prependListener(`optionEnv:${opt.name()}`, () => (fromEnv = true));
    events.prependListener(`option:${opt.name()}`, () => (fromEnv = false));
    opt.parseArg = <T>(value: string, previous: T): T => {
      try {
        return parse(value, previous) as T;
      } catch (err) {
        if (!fromEnv || !(err instanceof ConfigError)) throw err;
        throw envError(err, envVar, opt.long);
      }
    };
  }
  for (const sub of cmd.commands) nameEnvSources(sub);
}

function envError(err: ConfigError, envVar: string, flag: string | undefined): ConfigError {
  const named = `${envVar} (the environment variable for ${flag ?? 'this option'})`;
  const message =
    flag && err.message.startsWith(flag)
      ? named + err.message.slice(flag.length)
      : `${named}: ${err.message}`;
  return new ConfigError(message, err.hint);
}
