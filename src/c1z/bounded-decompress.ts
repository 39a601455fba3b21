import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Binding from 'zstd-napi/binding.js';

/**
 * zstd decompression of a c1z body into a file, one bounded step at a time. zstd-napi's
 * DecompressStream turns each input chunk into all of its output at once, ignoring backpressure:
 * a 93 KB bomb whose every 64 KiB of input inflates to gigabytes held that much in memory before
 * the size check downstream could stop it. Here each call of ZSTD_decompressStream fills one output
 * buffer, which is written (and awaited) before the next call, so memory stays at one input chunk
 * plus one output buffer whatever the ratio, and the decoded-size limit stops the loop the moment
 * it is crossed.
 */

// The package has no exports map; its low-level binding is a plain CommonJS file beside index.
const binding = createRequire(import.meta.url)('zstd-napi/binding') as typeof Binding;

/** Thrown when the decoded bytes pass `maxDecodedBytes`; container.ts maps it to C1zLimitError. */
export class DecodedLimitError extends Error {
  constructor(readonly decoded: number) {
    super('decoded size limit');
    this.name = 'DecodedLimitError';
  }
}

/** Thrown for input that ends inside a frame. */
export class TruncatedZstdError extends Error {
  constructor() {
    super('the zstd data ends inside a frame');
    this.name = 'TruncatedZstdError';
  }
}

/** Decompresses `src` from byte `start` into the new file `dst`; returns the decoded size. */
export async function decompressBounded(
  src: string,
  start: number,
  dst: string,
  limits: { maxDecodedBytes: number; windowLogMax: number },
): Promise<number> {
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, limits.windowLogMax);
  const input = Buffer.allocUnsafe(Math.max(binding.dStreamInSize(), 1 << 16));
  const output = Buffer.allocUnsafe(binding.dStreamOutSize());
  const inFile = await open(src, 'r');
  let outFile;
  try {
    outFile = await open(dst, 'wx', 0o600);
    let position = start;
    let decoded = 0;
    // ZSTD_decompressStream's first return value: 0 once a frame is complete and flushed.
    let pending = 0;
    for (;;) {
      const { bytesRead } = await inFile.read(input, 0, input.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let chunk = input.subarray(0, bytesRead);
      // Call until this chunk is consumed and the output buffer was not filled (nothing left to flush).
      for (;;) {
        const had = chunk.length;
        const [hint, produced, consumed] = dctx.decompressStream(output, chunk);
        // An empty call after a finished frame asks for the next frame's header (a non-zero hint):
        // only calls that did something say where the frame stands.
        if (had > 0 || produced > 0) pending = hint;
        chunk = chunk.subarray(consumed);
        if (produced > 0) {
          decoded += produced;
          if (decoded > limits.maxDecodedBytes) throw new DecodedLimitError(decoded);
          await outFile.write(output, 0, produced);
        }
        if (chunk.length === 0 && produced < output.length) break;
        // Input offered and none taken, nothing produced: no progress is possible.
        if (had > 0 && consumed === 0 && produced === 0) throw new TruncatedZstdError();
        if (had === 0 && produced === 0) break;
      }
    }
    if (pending !== 0) throw new TruncatedZstdError();
    return decoded;
  } finally {
    await outFile?.close();
    await inFile.close();
  }
}
