import { open, stat } from 'node:fs/promises';
import { decompressBounded, DecodedLimitError } from './bounded-decompress.js';
import { C1Z_MAGIC, C1Z_V3_MAGIC } from './schema.js';
import {
  C1zError,
  C1zLimitError,
  CorruptC1zError,
  NotC1zError,
  UnsupportedC1zVersionError,
} from './errors.js';

const MiB = 1024 * 1024;
/** baton-sdk v0.2.58 defaults (decoder.go): 3 GiB decoded, 128 MiB decoder memory = max window. */
export const DEFAULT_MAX_DECODED_BYTES = 3 * 1024 * MiB;
export const DEFAULT_MAX_WINDOW_BYTES = 128 * MiB;
export const MAX_DECODED_ENV = 'BATON_DECODER_MAX_DECODED_SIZE_MB';
export const MAX_WINDOW_ENV = 'BATON_DECODER_MAX_MEMORY_MB';

export interface DecodeLimits {
  maxDecodedBytes: number;
  maxWindowBytes: number;
}

/** Limits from explicit options, else the BATON_DECODER_* variables (MiB), else baton's defaults. */
export function decodeLimits(
  opts: { maxDecodedBytes?: number; maxWindowBytes?: number } = {},
  env: NodeJS.ProcessEnv = process.env,
): DecodeLimits {
  const fromEnv = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 ? n * MiB : undefined;
  };
  return {
    maxDecodedBytes: opts.maxDecodedBytes ?? fromEnv(MAX_DECODED_ENV) ?? DEFAULT_MAX_DECODED_BYTES,
    maxWindowBytes: opts.maxWindowBytes ?? fromEnv(MAX_WINDOW_ENV) ?? DEFAULT_MAX_WINDOW_BYTES,
  };
}

const ZSTD_MAGIC = 0xfd2fb528;
const isSkippableMagic = (m: number) => m >>> 4 === 0x184d2a5;

export interface FrameHeader {
  windowBytes: number;
  contentSize: number | undefined;
  dictionaryId: number;
}

/** Parses a zstd frame header (RFC 8878 §3.1.1.1) so limits are checked before any decoding. */
export function parseFrameHeader(buf: Uint8Array): FrameHeader | 'skippable' | 'short' | 'not-zstd' {
  if (buf.length < 4) return 'short';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, true);
  if (isSkippableMagic(magic)) return 'skippable';
  if (magic !== ZSTD_MAGIC) return 'not-zstd';
  if (buf.length < 5) return 'short';
  const fhd = buf[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  let pos = 5;
  let windowBytes = 0;
  if (!singleSegment) {
    if (buf.length < pos + 1) return 'short';
    const wd = buf[pos++]!;
    const windowLog = 10 + (wd >> 3);
    const base = 2 ** windowLog;
    windowBytes = base + (base / 8) * (wd & 7);
  }
  const dictSize = [0, 1, 2, 4][dictFlag]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (buf.length < pos + dictSize + fcsSize) return 'short';
  let dictionaryId = 0;
  for (let i = 0; i < dictSize; i++) dictionaryId += buf[pos + i]! * 2 ** (8 * i);
  pos += dictSize;
  let contentSize: number | undefined;
  if (fcsSize > 0) {
    let v = 0;
    for (let i = 0; i < fcsSize; i++) v += buf[pos + i]! * 2 ** (8 * i);
    contentSize = fcsSize === 2 ? v + 256 : v;
  }
  if (singleSegment) windowBytes = contentSize ?? 0;
  return { windowBytes, contentSize, dictionaryId };
}

/**
 * Checks the container header and decompresses the SQLite database inside into `dbPath`, with
 * baton's limits. Every way this can fail maps to a typed C1zError.
 */
export async function decodeC1z(path: string, dbPath: string, limits: DecodeLimits): Promise<void> {
  await checkC1zHeader(path, limits);
  await decompressInto(path, dbPath, limits);
}

/**
 * What can be told from the first bytes: a regular, non-empty file with the C1ZF magic and a zstd
 * frame header within baton's limits. Milliseconds, whatever the file's size.
 */
export async function checkC1zHeader(path: string, limits: DecodeLimits): Promise<void> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile())
      throw new C1zError(path, `${path} is not a file.`, 'Pass the path of a .c1z file (-f/--file).');
    size = st.size;
  } catch (err) {
    if (err instanceof C1zError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new C1zError(
      path,
      code === 'ENOENT' ? `${path} does not exist.` : `Cannot read ${path} (${code}).`,
      'Pass the c1z written by a sync with -f/--file (env BATON_FILE).',
      err,
    );
  }
  if (size === 0) throw new NotC1zError(path, 'the file is empty (0 bytes)');

  const head = Buffer.alloc(Math.min(size, 5 + 18));
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const magic = head.subarray(0, 5);
  if (magic.equals(C1Z_V3_MAGIC)) throw new UnsupportedC1zVersionError(path);
  if (!magic.equals(C1Z_MAGIC)) {
    throw new NotC1zError(path, `it starts with ${printable(magic)} instead of the C1ZF\\0 magic`);
  }
  if (size === 5) throw new CorruptC1zError(path, 'there is no compressed data after the C1ZF header');

  const header = parseFrameHeader(head.subarray(5));
  if (header === 'not-zstd') throw new CorruptC1zError(path, 'the data after the C1ZF header is not zstd');
  if (header === 'short') throw new CorruptC1zError(path, 'the zstd frame header is truncated');
  if (header !== 'skippable') {
    if (header.dictionaryId !== 0) {
      throw new CorruptC1zError(
        path,
        `the zstd frame needs dictionary ${header.dictionaryId}, which c1z readers never have`,
      );
    }
    if (header.windowBytes > limits.maxWindowBytes) {
      throw new C1zLimitError(
        path,
        `its zstd window is ${mib(header.windowBytes)} MiB, over the ${mib(limits.maxWindowBytes)} MiB limit`,
        MAX_WINDOW_ENV,
      );
    }
    if (header.contentSize !== undefined && header.contentSize > limits.maxDecodedBytes) {
      throw new C1zLimitError(
        path,
        `it declares ${mib(header.contentSize)} MiB of data, over the ${mib(limits.maxDecodedBytes)} MiB decoded-size limit`,
        MAX_DECODED_ENV,
      );
    }
  }
}

async function decompressInto(path: string, dbPath: string, limits: DecodeLimits): Promise<void> {
  let decoded: number;
  try {
    // Bounded step by step (see bounded-decompress.ts); later frames are capped by the decoder
    // itself: windowLogMax = floor(log2(limit)).
    decoded = await decompressBounded(path, 5, dbPath, {
      maxDecodedBytes: limits.maxDecodedBytes,
      windowLogMax: Math.max(10, Math.floor(Math.log2(limits.maxWindowBytes))),
    });
  } catch (err) {
    if (err instanceof DecodedLimitError) {
      throw new C1zLimitError(
        path,
        `it decodes to more than ${mib(limits.maxDecodedBytes)} MiB, the decoded-size limit`,
        MAX_DECODED_ENV,
      );
    }
    const msg = (err as Error).message ?? String(err);
    if (/window|memory|too large/i.test(msg)) {
      throw new C1zLimitError(
        path,
        `a zstd frame needs more than ${mib(limits.maxWindowBytes)} MiB of window`,
        MAX_WINDOW_ENV,
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EDQUOT') {
      throw new C1zError(
        path,
        `Cannot decompress ${path} into ${dbPath} (${code}).`,
        'Free space or pick another temp dir (TMPDIR); decoding needs about the uncompressed size.',
        err,
      );
    }
    throw new CorruptC1zError(path, `its zstd data is truncated or damaged (${msg})`, err);
  }
  if (decoded === 0) throw new CorruptC1zError(path, 'its zstd data decodes to nothing');
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 2);
}

function printable(bytes: Buffer): string {
  return `bytes ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}
