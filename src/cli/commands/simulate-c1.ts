import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseDuration, parseWholeNumber } from '../options.js';
import { startFakeC1, type FakeC1 } from '../../simulator/c1/index.js';

interface SimulateC1Options {
  host: string;
  port: number;
  plaintext?: boolean;
  clientName: string;
  tenantHost: string;
  tokenTtl: number;
  nextPoll: number;
  nextHeartbeat: number;
  syncEvery?: number;
  uploadDir: string;
  idleAnswer: 'absent' | 'none';
}

const HELP_AFTER = `
What it checks (as ConductorOne's side of baton v0.2.58 would):
  - POST /auth/v1/token: exactly the four form fields, an EdDSA client assertion signed with the
    printed secret's key, nonce, iss/sub/aud, nbf <= now <= exp; anything else is a 401.
  - every BatonService call: a valid bearer token, and the server-side validation rules (host id,
    27-character task ids, complete Hello build/OS info, upload order/sizes/sha256, FinishTask state).

Run a connector against it from another shell (paste the printed exports first):
  coupa-connector --base-url <coupa simulator url> --coupa-client-id ... --coupa-client-secret ...

Uploaded c1z files are saved in --upload-dir as <task id>-<n>.c1z; inspect them with
  coupa-connector stats -f <file>   (or syncs, resources, grants, diff …)
`;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** One line per thing the fake saw, printed as it happens. */
function watch(fake: FakeC1, out: (line: string) => void): () => void {
  const seen = { tokens: 0, hellos: 0, polls: 0, heartbeats: 0, uploads: 0, finishes: 0, calls: 0 };
  const r = fake.records;
  const tick = () => {
    for (const t of r.tokenRequests.slice(seen.tokens)) {
      out(t.ok ? 'token issued' : `token refused: ${t.reason}`);
    }
    for (const h of r.hellos.slice(seen.hellos)) {
      const m = h.request.connectorMetadata;
      out(
        `hello from ${h.request.hostId}: ${m?.displayName} (${h.request.buildInfo?.package} ${h.request.buildInfo?.packageVersion})`,
      );
    }
    for (const p of r.polls.slice(seen.polls)) if (p.taskId) out(`task ${p.taskId} handed to ${p.hostId}`);
    for (const h of r.heartbeats.slice(seen.heartbeats)) {
      out(`heartbeat ${h.n} for task ${h.taskId}${h.cancelled ? ' (answered: cancelled)' : ''}`);
    }
    for (const u of r.uploads.slice(seen.uploads)) {
      out(
        `upload for task ${u.taskId}: ${u.bytes.length} bytes in ${u.chunkSizes.length} chunks, sha256 ok${u.savedPath ? ` -> ${u.savedPath}` : ''}`,
      );
    }
    for (const f of r.finishes.slice(seen.finishes)) {
      const detail =
        f.outcome === 'success'
          ? `success${f.responseTypeUrl ? ` (${f.responseTypeUrl.split('/').pop()})` : ''}`
          : `error code ${f.code}${f.nonRetryable ? ', non-retryable' : ', retryable'}: ${f.message.split('\n')[0]}`;
      out(`task ${f.taskId} finished: ${detail}`);
    }
    for (const c of r.calls.slice(seen.calls))
      if (c.code !== 0) out(`${c.method} refused (code ${c.code}): ${c.message}`);
    seen.tokens = r.tokenRequests.length;
    seen.hellos = r.hellos.length;
    seen.polls = r.polls.length;
    seen.heartbeats = r.heartbeats.length;
    seen.uploads = r.uploads.length;
    seen.finishes = r.finishes.length;
    seen.calls = r.calls.length;
  };
  const timer = setInterval(tick, 200);
  return () => {
    clearInterval(timer);
    tick();
  };
}

export const simulateC1Command: CliCommand = {
  register(program: Command) {
    program
      .command('simulate-c1')
      .description(
        'Run a fake ConductorOne (token endpoint + BatonService task API) for a connector in service mode, until Ctrl-C.',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option(
        '--port <port>',
        'port to listen on (0 = any free port)',
        parseWholeNumber('--port', 0, 65535),
        0,
      )
      .option(
        '--plaintext',
        'plain HTTP instead of TLS (loopback only; gRPC is then cleartext HTTP/2 on the same port)',
      )
      .option('--client-name <name>', 'name part of the generated client id', 'fake-connector')
      .option(
        '--tenant-host <host>',
        'tenant host of the generated client id (the token audience)',
        'tenant.conductor.example',
      )
      .option(
        '--token-ttl <seconds>',
        'access-token lifetime in seconds',
        parseWholeNumber('--token-ttl', 1, 86_400),
        3600,
      )
      .addOption(
        new Option('--next-poll <duration>', 'next_poll sent with every GetTask answer')
          .argParser(parseDuration('--next-poll'))
          .default(1000, '1s'),
      )
      .addOption(
        new Option('--next-heartbeat <duration>', 'next_heartbeat sent with every Heartbeat answer')
          .argParser(parseDuration('--next-heartbeat'))
          .default(2000, '2s'),
      )
      .option(
        '--sync-every <duration>',
        'queue a full-sync task at start and then every <duration> (e.g. 60s); without it no task is queued',
        parseDuration('--sync-every', { min: 1000, max: 24 * 3600_000 }),
      )
      .option('--upload-dir <dir>', 'folder for uploaded c1z files', 'fake-c1-uploads')
      .addOption(
        new Option(
          '--idle-answer <form>',
          'how a poll with nothing to do is answered: no task field, or a "none" task',
        )
          .choices(['absent', 'none'])
          .default('absent'),
      )
      .addHelpText('after', HELP_AFTER)
      .action(async (opts: SimulateC1Options) => {
        const uploadDir = resolve(opts.uploadDir);
        const fake = await startFakeC1({
          host: opts.host,
          port: opts.port,
          tls: !opts.plaintext,
          clientName: opts.clientName,
          tenantHost: opts.tenantHost,
          tokenTtlSeconds: opts.tokenTtl,
          nextPollMs: opts.nextPoll,
          nextHeartbeatMs: opts.nextHeartbeat,
          noTaskAs: opts.idleAnswer,
          uploadDir,
        });
        const write = (line: string) => process.stdout.write(`${line}\n`);
        // The credentials are the fake's own, made a moment ago; printing them is the point.
        write(
          `Fake ConductorOne listening on ${fake.url}${fake.tls ? ' (TLS, generated CA)' : ' (plain HTTP)'}`,
        );
        write(`  uploads saved in ${uploadDir}`);
        write('');
        write('Environment for the connector:');
        for (const [name, value] of Object.entries(fake.env()))
          write(`  export ${name}=${shellQuote(value)}`);
        write('');
        let timer: NodeJS.Timeout | undefined;
        if (opts.syncEvery !== undefined) {
          const queueSync = () => write(`queued full-sync task ${fake.tasks.syncFull().id}`);
          queueSync();
          timer = setInterval(queueSync, opts.syncEvery);
        } else {
          write('No tasks are queued (use --sync-every to queue full syncs).');
        }
        write('Press Ctrl-C to stop.');
        const stopWatching = watch(fake, write);
        await new Promise<void>((done) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            done();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        if (timer) clearInterval(timer);
        stopWatching();
        await fake.close();
        const r = fake.records;
        write(
          `Fake ConductorOne stopped: ${r.hellos.length} hellos, ${r.polls.length} polls, ${r.uploads.length} uploads, ${r.finishes.length} finished tasks.`,
        );
      });
  },
};
