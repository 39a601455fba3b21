import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoupaConnectorError, ExitCode, formatError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { redact } from '../../secrets.js';
import type { ServiceMetrics } from './metrics.js';

export const DEFAULT_HEALTH_CHECK_PORT = 8081;
export const DEFAULT_HEALTH_CHECK_BIND_ADDRESS = '127.0.0.1';
/** baton-sdk gives the connector's Validate 30 s before /health answers unhealthy. */
export const HEALTH_CHECK_TIMEOUT_MS = 30_000;

/**
 * Proves the daemon can still do its job (for us: reach Coupa and get a token). Resolves when
 * healthy; rejects with an error whose message says what is wrong. It must stop when `signal` aborts.
 */
export type HealthCheck = (signal: AbortSignal) => Promise<void>;

export interface HealthServerOptions {
  host?: string;
  /** 0 picks a free port (tests); the chosen one is in `HealthServer.port`. */
  port?: number;
  metrics: ServiceMetrics;
  /** True once ConductorOne accepted the Hello, false again while shutting down. */
  isReady: () => boolean;
  checkHealth: HealthCheck;
  logger?: Logger;
  healthTimeoutMs?: number;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for logs and tests. */
  readonly url: string;
  close(): Promise<void>;
}

/** The port is taken or the address is not ours: the daemon cannot start as configured. */
export class HealthServerError extends CoupaConnectorError {
  constructor(message: string, hint: string, cause: unknown) {
    super(message, { exitCode: ExitCode.usage, hint, cause });
  }
}

type Body = Record<string, string>;

function send(
  res: ServerResponse,
  status: number,
  body: Body | string,
  contentType = 'application/json',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * Runs the check at most once at a time: probes from kubelet, a load balancer and a person with
 * curl that arrive together share one Coupa round trip instead of each costing one.
 */
function coalesced(check: HealthCheck, timeoutMs: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= (async () => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`the check did not finish within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      });
      try {
        await Promise.race([check(controller.signal), timeout]);
      } finally {
        clearTimeout(timer);
        running = undefined;
      }
    })();
    return running;
  };
}

/**
 * The `--health-check` server: /health, /ready and /live with baton-sdk's answers, plus /metrics
 * in Prometheus text format, on one port that only the host (or the pod) should reach.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const host = options.host ?? DEFAULT_HEALTH_CHECK_BIND_ADDRESS;
  const logger = options.logger ?? silentLogger;
  const health = coalesced(options.checkHealth, options.healthTimeoutMs ?? HEALTH_CHECK_TIMEOUT_MS);

  const routes: Record<string, (res: ServerResponse) => Promise<void> | void> = {
    '/health': async (res) => {
      try {
        await health();
        send(res, 200, { status: 'healthy', timestamp: new Date().toISOString() });
      } catch (err) {
        const error = redact(formatError(err));
        logger.warn({ err: error }, 'health check failed');
        send(res, 503, { status: 'unhealthy', timestamp: new Date().toISOString(), error });
      }
    },
    '/ready': (res) => {
      if (options.isReady()) send(res, 200, { status: 'ready' });
      else send(res, 503, { status: 'not_ready' });
    },
    '/live': (res) => send(res, 200, { status: 'alive' }),
    '/metrics': async (res) => {
      send(res, 200, await options.metrics.text(), options.metrics.contentType);
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://health.invalid').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return send(res, 404, { status: 'not_found', paths: Object.keys(routes).join(' ') });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { status: 'method_not_allowed' });
    }
    await route(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: redact(formatError(err)), path: req.url }, 'health server request failed');
      if (!res.headersSent) send(res, 500, { status: 'error' });
      else res.destroy();
    });
  });
  // Probes never send bodies and never need a connection for long; a stuck client must not pin it.
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host}:${options.port ?? DEFAULT_HEALTH_CHECK_PORT}`;
      const hint =
        err.code === 'EADDRINUSE'
          ? 'Another process uses that port: pass --health-check-port (BATON_HEALTH_CHECK_PORT).'
          : 'Check --health-check-bind-address (BATON_HEALTH_CHECK_BIND_ADDRESS): it must be an address of this host.';
      reject(
        new HealthServerError(
          `Cannot serve health checks on ${where}: ${err.code ?? err.message}.`,
          hint,
          err,
        ),
      );
    });
    server.listen(options.port ?? DEFAULT_HEALTH_CHECK_PORT, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'health check server listening (/health, /ready, /live, /metrics)');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus scrapers keep connections alive; without this close() would wait for them.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
