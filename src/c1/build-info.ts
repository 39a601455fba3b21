import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** name and version from our package.json (src/c1 and dist/c1 both sit two levels below it). */
export function packageInfo(): { name: string; version: string } {
  try {
    const file = join(dirname(fileURLToPath(import.meta.url)), '../../package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    return { name: pkg.name || 'coupa-connector', version: pkg.version || '0.0.0' };
  } catch {
    return { name: 'coupa-connector', version: '0.0.0' };
  }
}

export interface BuildInfo {
  langVersion: string;
  package: string;
  packageVersion: string;
}

export interface OsInfo {
  hostname: string;
  os: string;
  platform: string;
  platformVersion: string;
  platformFamily: string;
  kernelVersion: string;
  kernelArch: string;
  virtualizationSystem: string;
}

export function buildInfo(): BuildInfo {
  const pkg = packageInfo();
  return { langVersion: `node${process.versions.node}`, package: pkg.name, packageVersion: pkg.version };
}

function osRelease(): Record<string, string> {
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const out: Record<string, string> = {};
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
      }
      return out;
    } catch {
      // Not Linux, or a minimal image without the file.
    }
  }
  return {};
}

/** Only what can be told cheaply and without privileges; "none" otherwise, as gopsutil reports. */
function virtualization(): string {
  if (existsSync('/.dockerenv')) return 'docker';
  if (process.env.KUBERNETES_SERVICE_HOST) return 'kubernetes';
  try {
    const cgroup = readFileSync('/proc/1/cgroup', 'utf8');
    if (/docker|containerd|kubepods|libpod/.test(cgroup)) return 'container';
  } catch {
    // No /proc: not Linux.
  }
  return 'none';
}

/**
 * The machine as Hello describes it, gopsutil-style. ConductorOne (as of baton-sdk v0.2.58)
 * refuses a Hello with any empty string here, so every field has a non-empty fallback, and none
 * exceeds the 256-byte limit.
 */
export function osInfo(): OsInfo {
  const rel = osRelease();
  const osName = process.platform;
  const platform = rel.ID || osName;
  const kernelVersion = os.release() || 'unknown';
  const info: OsInfo = {
    hostname: os.hostname() || 'unknown',
    os: osName,
    platform,
    platformVersion: rel.VERSION_ID || kernelVersion,
    platformFamily: rel.ID_LIKE?.split(/\s+/)[0] || platform,
    kernelVersion,
    kernelArch: os.machine?.() || process.arch || 'unknown',
    virtualizationSystem: virtualization(),
  };
  for (const k of Object.keys(info) as Array<keyof OsInfo>) {
    info[k] = (info[k] || 'unknown').slice(0, 256);
  }
  return info;
}
