import { BodyTooLargeError, DEFAULT_MAX_RESPONSE_BYTES, readBoundedText } from './bounded-body.js';

/**
 * One HTTP exchange, nothing more: no retries, no auth logic. Uses Node's global fetch (undici).
 * The per-attempt timeout covers reading the body too, since a server can stall mid-body.
 */
export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Cap on the decoded body; see bounded-body.ts. */
  maxBodyBytes?: number;
  /** Aborts the exchange; its reason is what gets thrown. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A failure below HTTP (refused, reset, DNS, TLS, timeout). `code` is the most specific system code
 * found (ECONNRESET, ENOTFOUND, UND_ERR_SOCKET, TIMEOUT, …); `retryable` says whether trying again
 * can help; `sent` is false when we know the request never reached the server.
 */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

/** Codes worth retrying: the connection broke or timed out, or DNS hiccuped. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UNKNOWN',
]);
/** Codes that mean the request did not leave this machine. */
const NOT_SENT_CODES = new Set([
  'EBADPORT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function systemCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}

export async function sendOnce(req: HttpRequest): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal,
    });
    const text = await readBoundedText(res, req.maxBodyBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    if (err instanceof BodyTooLargeError) throw err;
    if (timeout.aborted) {
      throw new NetworkError(`no complete answer within ${req.timeoutMs} ms`, 'TIMEOUT', true, true, {
        cause: err,
      });
    }
    const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    // fetch refuses some ports outright (the WHATWG "bad port" list, port 1 among them): that never
    // changes on a retry, so say so at once instead of spending the retry budget on it.
    const code = detail === 'bad port' ? 'EBADPORT' : systemCode(err);
    return Promise.reject(
      new NetworkError(detail, code, RETRYABLE_CODES.has(code), !NOT_SENT_CODES.has(code), { cause: err }),
    );
  }
}
