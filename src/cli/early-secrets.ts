import { registerSecret } from '../secrets.js';

/** Flags (and their BATON_* variables) whose value is a secret, known before any parsing. */
const SECRET_FLAGS = ['--coupa-client-secret', '--client-secret'] as const;
const SECRET_ENV = ['BATON_COUPA_CLIENT_SECRET', 'BATON_CLIENT_SECRET'] as const;

/**
 * Registers every secret the process can learn without parsing, so that even the errors of
 * argument parsing (a mistyped command that is really the secret, typed by a shell slip) print
 * it redacted. The commands register them again later; registering twice is harmless.
 */
export function registerSecretsBeforeParsing(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  for (const name of SECRET_ENV) registerSecret(env[name]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    for (const flag of SECRET_FLAGS) {
      if (arg === flag) registerSecret(argv[i + 1]);
      else if (arg.startsWith(`${flag}=`)) registerSecret(arg.slice(flag.length + 1));
    }
  }
}

/**
 * What an unknown option may show of itself: its name, never a value glued to it. `--secrt=S3cr3t`
 * is most likely a mistyped secret flag, and `-xS3cr3t` a short flag with its value attached.
 */
export function optionNameOnly(flag: string): string {
  if (flag.startsWith('--')) {
    const eq = flag.indexOf('=');
    return eq === -1 ? flag : flag.slice(0, eq);
  }
  return flag.startsWith('-') ? flag.slice(0, 2) : flag;
}
