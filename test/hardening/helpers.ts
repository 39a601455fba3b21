import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { expect } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { testClient, type TestClientOptions } from '../helpers/client.js';
import { C1zReader } from '../../src/c1z/reader.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
} from '../../src/c1z/messages.js';
import { syncToC1z, type SyncSummary } from '../../src/connector/sync.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Short timeouts and backoffs so a fault test costs milliseconds per retry; the retry limit and
 * budget stay at the client's defaults unless a test is about exhausting them.
 */
export const FAULT_TIMING: TestClientOptions = {
  timeoutMs: 2_000,
  retry: { baseDelayMs: 5, maxDelayMs: 2_000 },
};

/** One sync of `sim` into `outPath` with a FAULT_TIMING client; `opts` adjusts the client. */
export function syncOnce(
  sim: Simulator,
  outPath: string,
  opts: TestClientOptions = {},
): Promise<SyncSummary> {
  return syncToC1z({
    client: testClient(sim, FAULT_TIMING, opts),
    outPath,
    signal: opts.signal,
    logger: opts.logger,
  });
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Files in `dir` other than the ones named: a temp file left behind by an aborted write shows up here. */
export function strayFiles(dir: string, expected: string[]): string[] {
  return readdirSync(dir).filter((f) => !expected.includes(f));
}

/**
 * Runs `act` on a fresh copy of the previous output, alone in a temp dir, then checks what every
 * failed run must leave: the copy byte for byte as it was and nothing beside it. `label` prefixes
 * the assertion messages. Returns what `act` returned.
 */
export async function onCopyOfPrevious<T>(
  previous: string,
  act: (out: string) => Promise<T>,
  label = '',
): Promise<T> {
  const dir = tempDir();
  try {
    const out = join(dir.dir, 'out.c1z');
    copyFileSync(previous, out);
    const before = sha256(out);
    const result = await act(out);
    expect(existsSync(out), `${label}previous output removed`).toBe(true);
    expect(sha256(out), `${label}previous output changed`).toBe(before);
    expect(strayFiles(dir.dir, ['out.c1z']), `${label}files left next to the output`).toEqual([]);
    return result;
  } finally {
    dir.cleanup();
  }
}

/**
 * What a c1z says, independent of when it was written: every resource type, resource, entitlement
 * and grant by id, each with its serialised protobuf message. Sync ids and timestamps live in the
 * sync_runs table and the container, not in these messages, so two syncs of the same tenant must
 * decode to equal maps.
 */
export interface Decoded {
  resourceTypes: Map<string, string>;
  resources: Map<string, string>;
  entitlements: Map<string, string>;
  grants: Map<string, string>;
  /** Rows read, to catch a duplicate that the maps would hide. */
  rows: { resources: number; entitlements: number; grants: number };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export async function decode(path: string): Promise<Decoded> {
  const reader = await C1zReader.open(path);
  try {
    const out: Decoded = {
      resourceTypes: new Map(),
      resources: new Map(),
      entitlements: new Map(),
      grants: new Map(),
      rows: { resources: 0, entitlements: 0, grants: 0 },
    };
    for (const rt of reader.resourceTypes())
      out.resourceTypes.set(rt.id, b64(toBinary(ResourceTypeSchema, rt)));
    for (const r of reader.resources()) {
      out.rows.resources++;
      out.resources.set(`${r.id!.resourceType}:${r.id!.resource}`, b64(toBinary(ResourceSchema, r)));
    }
    for (const e of reader.entitlements()) {
      out.rows.entitlements++;
      out.entitlements.set(e.id, b64(toBinary(EntitlementSchema, e)));
    }
    for (const g of reader.grants()) {
      out.rows.grants++;
      out.grants.set(g.id, b64(toBinary(GrantSchema, g)));
    }
    return out;
  } finally {
    reader.close();
  }
}

/** Ids of users in a decoded file. */
export function userIds(d: Decoded): number[] {
  return [...d.resources.keys()]
    .filter((k) => k.startsWith('user:'))
    .map((k) => Number(k.slice('user:'.length)))
    .sort((a, b) => a - b);
}

/** Removes every resource / grant of one user, to compare with a file that lacks that user. */
export function withoutUser(d: Decoded, id: number): Decoded {
  const drop = <V>(m: Map<string, V>, keep: (k: string) => boolean) =>
    new Map([...m].filter(([k]) => keep(k)));
  return {
    ...d,
    resources: drop(d.resources, (k) => k !== `user:${id}`),
    grants: drop(d.grants, (k) => !k.endsWith(`:user:${id}`)),
  };
}

/**
 * "Every Nth request" as a fault schedule: deterministic (so a failing run can be replayed) and
 * firing from early on, so even a short sync sees the fault. `phase` spreads several rules apart.
 */
export function everyNth(n: number, phase: number, upTo = 2_000): number[] {
  const out: number[] = [];
  for (let i = phase; i <= upTo; i += n) out.push(i);
  return out;
}

/**
 * A pass-through proxy in front of the simulator that records every bearer token it sees in a
 * request and every access_token the token endpoint hands out, so a test can grep outputs for the
 * tokens a run actually used without the simulator having to expose them.
 */
export interface TokenSpy {
  url: string;
  tokens: Set<string>;
  close(): Promise<void>;
}

export async function startTokenSpy(targetUrl: string): Promise<TokenSpy> {
  const target = new URL(targetUrl);
  const tokens = new Set<string>();
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization;
    const m = auth && /^bearer\s+(\S+)/i.exec(auth);
    if (m) tokens.add(m[1]!);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          if (req.url?.startsWith('/oauth2/token')) {
            try {
              const t = (JSON.parse(body.toString('utf8')) as { access_token?: string }).access_token;
              if (t) tokens.add(t);
            } catch {
              // not a token answer
            }
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
