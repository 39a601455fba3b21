/**
 * Measures `coupa-connector simulate --users N` the way a user runs it: spawn the built CLI, wait
 * for the first page of users over HTTP, then walk every user by keyset paging. Reports
 * start-to-first-page time, the time of the full walk and the child's resident memory (VmRSS now,
 * VmHWM = peak), read from /proc.
 *
 *   npm run build && node --import tsx bench/simulator-startup.ts [users=100000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const users = Number(process.argv[2] ?? 100_000);
const bin = fileURLToPath(new URL('../bin/coupa-connector.js', import.meta.url));

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const started = performance.now();
const child = spawn(
  process.execPath,
  [bin, 'simulate', '--port', '0', '--users', String(users), '--no-rate-limit'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let out = '';
child.stdout.on('data', (d: Buffer) => (out += d.toString()));
try {
  let url: string | undefined;
  while (!url) {
    if (child.exitCode !== null) throw new Error(`simulate exited with ${child.exitCode}`);
    url = /listening on (http:\/\/[^\s]+)/.exec(out)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 5));
  }
  const listening = performance.now() - started;
  const id = /client id:\s+(\S+)/.exec(out)?.[1] ?? '';
  const secret = /client secret:\s+(\S+)/.exec(out)?.[1] ?? '';
  const tokenRes = await fetch(`${url}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const headers = { Authorization: `Bearer ${access_token}`, Accept: 'application/json' };
  const first = (await (await fetch(`${url}/api/users?id[gt]=0`, { headers })).json()) as Array<{
    id: number;
  }>;
  const firstPage = performance.now() - started;
  const afterStart = memoryMb(child.pid!);

  const walkStart = performance.now();
  let last = first.at(-1)?.id ?? 0;
  let seen = first.length;
  let pages = 1;
  for (;;) {
    const page = (await (await fetch(`${url}/api/users?id[gt]=${last}`, { headers })).json()) as Array<{
      id: number;
    }>;
    pages++;
    if (page.length === 0) break;
    seen += page.length;
    last = page.at(-1)!.id;
  }
  const walk = performance.now() - walkStart;
  const afterWalk = memoryMb(child.pid!);
  const result = {
    users,
    node: process.version,
    listeningMs: Math.round(listening),
    startToFirstPageMs: Math.round(firstPage),
    rssAfterStartMb: Math.round(afterStart.rss),
    fullKeysetWalk: {
      users: seen,
      pages,
      ms: Math.round(walk),
      msPerPage: Number((walk / pages).toFixed(2)),
    },
    rssAfterWalkMb: Math.round(afterWalk.rss),
    peakRssMb: Math.round(afterWalk.peak),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  child.kill('SIGTERM');
}
