import { describe, expect, it } from 'vitest';
import { CoupaDomainError, resolveBaseUrl } from '../../src/coupa/index.js';
import { ExitCode } from '../../src/errors.js';

describe('resolveBaseUrl: --coupa-domain', () => {
  it.each([
    ['acme', 'https://acme.coupahost.com/'],
    ['ACME', 'https://acme.coupahost.com/'],
    ['acme-test', 'https://acme-test.coupahost.com/'],
    ['acme.coupahost.com', 'https://acme.coupahost.com/'],
    ['Acme.CoupaHost.com', 'https://acme.coupahost.com/'],
    ['https://acme.coupahost.com/', 'https://acme.coupahost.com/'],
    ['HTTPS://ACME.COUPAHOST.COM', 'https://acme.coupahost.com/'],
    ['acme.coupacloud.com', 'https://acme.coupacloud.com/'],
    ['https://demo1.coupacloud.com', 'https://demo1.coupacloud.com/'],
    ['  acme  ', 'https://acme.coupahost.com/'],
  ])('accepts %j as %s', (input, expected) => {
    expect(resolveBaseUrl({ domain: input }).href).toBe(expected);
  });

  it.each([
    ['http://acme.coupahost.com', /must use https/],
    ['ftp://acme.coupahost.com', /must use https/],
    ['evil.com', /not a Coupa instance/],
    ['acme.coupahost.com.evil.com', /not a Coupa instance/],
    ['acme.cso.coupahost.com', /not a Coupa instance/],
    ['coupahost.com', /not a Coupa instance/],
    ['r39.coupadev.com', /not a Coupa instance/],
    ['acme.coupahost.com/api', /no path/],
    ['https://acme.coupahost.com/login', /no path/],
    ['acme.coupahost.com:8443', /no path, port/],
    ['user@acme.coupahost.com', /no path, port, user/],
    ['acme.coupahost.com?x=1', /no path/],
    ['-acme', /not a Coupa instance/],
    ['ac_me', /not a Coupa instance/],
    ['ac me', /not a Coupa instance|no path/],
    ['', /No Coupa domain/],
  ])('rejects %j', (input, message) => {
    let error: unknown;
    try {
      resolveBaseUrl({ domain: input });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CoupaDomainError);
    expect((error as CoupaDomainError).message).toMatch(message);
    expect((error as CoupaDomainError).exitCode).toBe(ExitCode.usage);
  });

  it('names the rejected value and says what to pass instead', () => {
    expect(() => resolveBaseUrl({ domain: 'evil.com' })).toThrow(/"evil\.com"/);
    try {
      resolveBaseUrl({ domain: 'evil.com' });
    } catch (err) {
      expect((err as CoupaDomainError).hint).toMatch(/--base-url/);
    }
  });
});

describe('resolveBaseUrl: --base-url', () => {
  it('bypasses the host rule for https', () => {
    expect(resolveBaseUrl({ baseUrl: 'https://proxy.example.com' }).href).toBe('https://proxy.example.com/');
  });

  it('may come with a --coupa-domain that names the same host', () => {
    expect(resolveBaseUrl({ domain: 'acme', baseUrl: 'https://acme.coupahost.com' }).href).toBe(
      'https://acme.coupahost.com/',
    );
    expect(
      resolveBaseUrl({ domain: 'ACME.coupahost.com', baseUrl: 'https://acme.coupahost.com/' }).href,
    ).toBe('https://acme.coupahost.com/');
  });

  it.each([
    // An invalid domain used to be ignored without a word; a leftover variable synced another host.
    ['no such!', 'http://127.0.0.1:8080', /"no such!" is not a Coupa instance/],
    ['acme', 'http://127.0.0.1:8080', /acme\.coupahost\.com.*127\.0\.0\.1:8080/],
    ['acme', 'https://proxy.example.com/coupa', /acme\.coupahost\.com.*proxy\.example\.com/],
    ['acme', 'https://other.coupahost.com', /acme\.coupahost\.com.*other\.coupahost\.com/],
  ])('refuses --coupa-domain %j with a --base-url %s that names another host', (domain, baseUrl, detail) => {
    let error: unknown;
    try {
      resolveBaseUrl({ domain, baseUrl, sources: { domain: 'the command line', baseUrl: 'BATON_BASE_URL' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CoupaDomainError);
    const err = error as CoupaDomainError;
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toMatch(
      /--coupa-domain .*\(from the command line\).*--base-url .*\(from BATON_BASE_URL\)/,
    );
    expect(err.message).toMatch(detail);
    expect(err.hint).toMatch(/one of them/);
  });

  it('keeps a path prefix', () => {
    expect(resolveBaseUrl({ baseUrl: 'https://proxy.example.com/coupa' }).href).toBe(
      'https://proxy.example.com/coupa/',
    );
  });

  it.each(['http://127.0.0.1:8080', 'http://127.3.4.5', 'http://localhost:3000', 'http://[::1]:9000'])(
    'allows plain http to loopback %s',
    (url) => {
      expect(resolveBaseUrl({ baseUrl: url }).protocol).toBe('http:');
    },
  );

  it.each([
    ['http://proxy.example.com', /plain http/],
    ['http://10.0.0.1:8080', /plain http/],
    ['http://127.0.0.1.nip.io', /plain http/],
    ['http://localhost.evil.com', /plain http/],
    ['ftp://127.0.0.1', /must be an https URL/],
    ['not a url', /is not a URL/],
    ['https://user:pw@proxy.example.com', /user name or password/],
    ['https://proxy.example.com/?token=1', /query or fragment/],
  ])('refuses %s', (url, message) => {
    expect(() => resolveBaseUrl({ baseUrl: url })).toThrow(CoupaDomainError);
    expect(() => resolveBaseUrl({ baseUrl: url })).toThrow(message);
  });

  it('never echoes a password given in the URL', () => {
    try {
      resolveBaseUrl({ baseUrl: 'https://user:hunter2secret@proxy.example.com' });
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('hunter2secret');
    }
  });
});
