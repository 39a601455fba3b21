/**
 * A throw-away CA and a server certificate for the fake ConductorOne.
 *
 * Why the `openssl` command: node:crypto makes keys but cannot issue X.509 certificates, and the
 * alternatives are a new runtime dependency (selfsigned → node-forge) for a test tool or a
 * hand-written DER encoder. openssl is on this machine, on Debian/Ubuntu images and in CI runners;
 * where it is missing, the fake still runs in plain-HTTP loopback mode (`tls: false`), or takes a
 * certificate the caller made (`tls: { certPem, keyPem, caPem }`).
 *
 * A separate CA (rather than one self-signed leaf) so the client trusts it the way it trusts a
 * real ConductorOne: a root in NODE_EXTRA_CA_CERTS / SSL_CERT_FILE, a leaf with the right SAN.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';

export interface GeneratedTls {
  /** Directory holding ca.pem, server.pem and server.key; removed by `cleanup()`. */
  dir: string;
  caPath: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  cleanup(): void;
}

const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error(
        'The fake ConductorOne needs the `openssl` command to make its TLS certificate, and none was found. ' +
          'Install openssl, or run it in plain-HTTP loopback mode (tls: false / --plaintext).',
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/** A CA valid for two days and a server certificate for `hosts` (IPs and DNS names) signed by it. */
export function generateTls(hosts: string[] = ['127.0.0.1', '::1', 'localhost']): GeneratedTls {
  const dir = mkdtempSync(join(tmpdir(), 'fake-c1-tls-'));
  try {
    const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=coupa-connector fake ConductorOne test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`], dir);
    writeFileSync(
      join(dir, 'server.ext'),
      [
        `subjectAltName=${san}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '2',
        '-extfile',
        'server.ext',
        '-out',
        'server.pem',
      ],
      dir,
    );
    // The CA key is not needed after signing; leave nothing that could mint more certificates.
    rmSync(join(dir, 'ca.key'));
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return {
      dir,
      caPath: join(dir, 'ca.pem'),
      caPem: read('ca.pem'),
      certPem: read('server.pem'),
      keyPem: read('server.key'),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
