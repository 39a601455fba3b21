import { randomBytes } from 'node:crypto';

const KSUID_EPOCH_SECONDS = 1_400_000_000;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A KSUID as Go's segmentio/ksuid makes it: 4-byte big-endian seconds since 2014-05-13 plus 16
 * random bytes, base62 to 27 characters. HEAD baton breaks `ended_at` ties on sync_id assuming
 * these sort by time.
 */
export function newKsuid(now: Date = new Date()): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUInt32BE(Math.max(0, Math.floor(now.getTime() / 1000) - KSUID_EPOCH_SECONDS) >>> 0, 0);
  randomBytes(16).copy(bytes, 4);
  let n = BigInt('0x' + bytes.toString('hex'));
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(27, '0');
}
