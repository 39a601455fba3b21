import { CoupaConnectorError, ExitCode } from '../errors.js';

/**
 * Response bodies are read as a stream and capped, so a hostile or broken server cannot grow the
 * process without bound: a never-ending body, a small gzip body that inflates to gigabytes, or a
 * 200 MB page. The cap counts decoded bytes (what fetch hands over after gzip/deflate/br), and a
 * declared Content-Length above it is refused before reading anything.
 *
 * The default is far above any real page: a page is at most 50 users, and even users with
 * 100 kB names fit in a few MB.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Thrown by readBoundedText; the transport turns it into a CoupaResponseTooLargeError naming the endpoint. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limitBytes: number,
    /** How many bytes were seen (decoded) or declared before we stopped. */
    readonly bytes: number,
    readonly declared: boolean,
  ) {
    super(`response body over ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** A response larger than the cap: not retried (the next answer would be the same), exit 1. */
export class CoupaResponseTooLargeError extends CoupaConnectorError {
  readonly endpoint: string;
  readonly limitBytes: number;

  constructor(endpoint: string, origin: string, err: BodyTooLargeError) {
    super(
      `${endpoint} at ${origin} answered more than ${mib(err.limitBytes)} MiB ` +
        `(${err.declared ? `Content-Length ${err.bytes}` : `stopped reading after ${err.bytes} decoded bytes`}); ` +
        'the response was not used and the request was not retried.',
      {
        exitCode: ExitCode.failure,
        hint: 'A Coupa page of 50 records is far smaller: check that --coupa-domain / --base-url point at Coupa itself. If it really is that large, raise --max-response-mb.',
        cause: err,
      },
    );
    this.endpoint = endpoint;
    this.limitBytes = err.limitBytes;
  }
}

function mib(bytes: number): string {
  const v = bytes / (1024 * 1024);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/**
 * The body as text, reading at most `maxBytes` decoded bytes. Past the cap the stream is
 * cancelled (the connection is dropped, not drained) and BodyTooLargeError is thrown.
 */
export async function readBoundedText(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(maxBytes, declared, true);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parts: string[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(maxBytes, total, false);
    }
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}
