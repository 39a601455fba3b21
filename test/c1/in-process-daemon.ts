import { Writable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { C1Client } from '../../src/c1/client.js';
import { parseCredentials } from '../../src/c1/credentials.js';
import { buildInfo, osInfo } from '../../src/c1/build-info.js';
import { connectorMetadata } from '../../src/c1/metadata.js';
import { BatonServiceHelloRequestSchema } from '../../src/c1/messages.js';
import { runDaemon, type HandledTaskType, type TaskHandler } from '../../src/c1/daemon.js';
import { createServiceMetrics, type ServiceMetrics } from '../../src/c1/ops/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { FakeC1 } from '../../src/simulator/c1/index.js';

/**
 * The task loop in this process, against a fake ConductorOne in plain-HTTP mode, with handlers the
 * test chooses and every log line kept: for tests about what the loop does between tasks, without
 * the cost of a CLI process.
 */
export interface InProcessDaemon {
  logger: Logger;
  metrics: ServiceMetrics;
  client: C1Client;
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first log line `match` accepts (rejects after `timeoutMs`). */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** runDaemon's promise. */
  done: Promise<void>;
  /** Asks the loop to stop (as SIGTERM does) and waits for it to end, however it ends. */
  stop(): Promise<void>;
}

const unused: TaskHandler = () => Promise.reject(new Error('this test queues no task of this type'));

export function startInProcessDaemon(opts: {
  fake: FakeC1;
  handlers?: Partial<Record<HandledTaskType, TaskHandler>>;
  provisioning?: boolean;
  shutdownTimeoutMs?: number;
  pollFloorMs?: number;
}): InProcessDaemon {
  if (opts.fake.tls) throw new Error('startInProcessDaemon wants a fake started with tls: false');
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l));
      for (const w of waiters) w();
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination: sink });
  const metrics = createServiceMetrics({ defaultMetrics: false });
  const client = new C1Client({
    creds: parseCredentials(opts.fake.clientId, opts.fake.clientSecret),
    env: { BATON_C1_API_HOST: opts.fake.url, BATON_HOST_ID: 'in-process' },
    logger,
  });
  const stop = new AbortController();
  const done = runDaemon({
    client,
    logger,
    metrics,
    stop: stop.signal,
    provisioning: opts.provisioning ?? true,
    concurrency: 3,
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 2000,
    pollFloorMs: opts.pollFloorMs,
    hello: (taskId) =>
      create(BatonServiceHelloRequestSchema, {
        taskId,
        buildInfo: buildInfo(),
        osInfo: osInfo(),
        connectorMetadata: connectorMetadata(),
      }),
    handlers: {
      syncFull: opts.handlers?.syncFull ?? unused,
      grant: opts.handlers?.grant ?? unused,
      revoke: opts.handlers?.revoke ?? unused,
      createAccount: opts.handlers?.createAccount ?? unused,
    },
  });
  // A test that expects a rejection awaits `done` itself; this only keeps it from being unhandled.
  done.catch(() => undefined);
  return {
    logger,
    metrics,
    client,
    logs: () => lines,
    waitForLog(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no such log line within ${timeoutMs} ms; last lines:\n${lines
                .slice(-8)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    done,
    async stop() {
      stop.abort('SIGTERM');
      // How the loop ended is `done`'s to tell; stopping only waits for it.
      await done.catch(() => undefined);
    },
  };
}
