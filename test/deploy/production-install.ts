import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { collect, ROOT, type Run } from '../helpers/cli.js';
import { builtPackage } from '../helpers/package.js';

/**
 * What the Dockerfile's build stage assembles in /app, rebuilt here: `npm pack` of the repo built
 * from current source,
 * unpacked, with the repo's installed dependencies pruned to production ones (`npm prune
 * --omit=dev`, which gives the tree `npm ci --omit=dev` installs, compiled native modules included).
 * Offline: `npm ci --offline` cannot work from a lock file without `resolved` URLs, and compiling
 * better-sqlite3 again would take minutes.
 */
export function installProduction(dir: string): string {
  const npm = (args: string[], cwd: string) =>
    execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const packed = JSON.parse(
    npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], builtPackage()),
  ) as Array<{
    filename: string;
  }>;
  const app = join(dir, 'app');
  mkdirSync(app);
  execFileSync('tar', ['-xzf', join(dir, packed[0]!.filename), '-C', app, '--strip-components=1']);
  cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  cpSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  npm(['prune', '--omit=dev', '--offline', '--ignore-scripts'], app);
  return app;
}

export function installedPackages(app: string): string[] {
  return readdirSync(join(app, 'node_modules')).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(app, 'node_modules', name)).map((s) => `${name}/${s}`) : [name],
  );
}

/**
 * How a test makes the root filesystem read-only, short of a container: a private mount namespace
 * (as root, or as a mapped root in a user namespace) where `/` is remounted read-only and only the
 * writable folder is bind-mounted over itself. Where namespaces are not allowed, it falls back to
 * removing write permission, which binds only non-root users.
 */
export type Sandbox = 'read-only mount namespace' | 'permissions only';

function unshareArgs(): string[] | undefined {
  const base = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const probe = spawnSync('unshare', [...base, 'sh', '-c', 'mount -o remount,bind,ro / && exit 0'], {
    stdio: 'ignore',
  });
  return probe.status === 0 ? base : undefined;
}

const UNSHARE = unshareArgs();
export const SANDBOX: Sandbox = UNSHARE ? 'read-only mount namespace' : 'permissions only';

export interface SandboxRun {
  /** The only writable folder; also TMPDIR. */
  writable: string;
  cwd: string;
  /** The complete environment: nothing of the test runner's leaks in (no HOME, no BATON_*). */
  env: Record<string, string>;
  timeoutMs?: number;
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  /** Called once the process started, e.g. to signal it later. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
}

/** Runs `node <args>` with the root filesystem read-only except `writable`. */
export function runSandboxed(args: string[], opts: SandboxRun): Promise<Run> {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', TMPDIR: opts.writable, ...opts.env };
  const [cmd, argv] = UNSHARE
    ? [
        'unshare',
        [
          ...UNSHARE,
          'sh',
          '-c',
          // exec: the signal a test sends reaches node itself.
          'mount --bind "$1" "$1" && mount -o remount,bind,ro / && cd "$2" && shift 2 && exec "$@"',
          'sandbox',
          opts.writable,
          opts.cwd,
          process.execPath,
          ...args,
        ],
      ]
    : [process.execPath, args];
  const child = spawn(cmd as string, argv as string[], { cwd: opts.cwd, env });
  opts.onSpawn?.(child);
  return collect(child, opts);
}

/** Without a namespace: take write permission away from everything but the writable folder. */
export function lockDownWithoutNamespace(app: string): void {
  if (UNSHARE) return;
  execFileSync('chmod', ['-R', 'a-w', app]);
}

export function unlock(app: string): void {
  if (existsSync(app)) execFileSync('chmod', ['-R', 'u+w', app]);
}
