import { CoupaConnectorError, ExitCode } from '../errors.js';

/**
 * Failures of the ConductorOne side of service mode. Like every error of this project, the message
 * says what failed and the hint what to do; neither may hold the client secret, the key or a token.
 */

/** --client-id / --client-secret are missing or not in ConductorOne's format. */
export class C1CredentialsError extends CoupaConnectorError {
  constructor(message: string, hint?: string) {
    super(message, {
      exitCode: ExitCode.usage,
      hint:
        hint ??
        'Copy the Client ID and Secret from the connector in ConductorOne (Settings > Edit > Rotate) into ' +
          'BATON_CLIENT_ID and BATON_CLIENT_SECRET.',
    });
  }
}

/** ConductorOne refused the credentials (token endpoint or gRPC Unauthenticated/PermissionDenied). */
export class C1AuthError extends CoupaConnectorError {
  /**
   * The token endpoint said the client itself is not valid (401, or 400 `invalid_client`): what
   * ConductorOne answers once the credentials were revoked or rotated. No retry can change that,
   * so a running service stops (exit 3) instead of backing off forever.
   */
  readonly credentialsRefused: boolean;

  constructor(message: string, hint?: string, opts: { credentialsRefused?: boolean } = {}) {
    super(message, {
      exitCode: ExitCode.auth,
      hint:
        hint ??
        'Check BATON_CLIENT_ID and BATON_CLIENT_SECRET; rotate the credentials in ConductorOne if they were revoked.',
    });
    this.credentialsRefused = opts.credentialsRefused ?? false;
  }
}

/** The ConductorOne endpoint (BATON_C1_API_HOST, HTTPS_PROXY) is not usable as configured. */
export class C1EndpointError extends CoupaConnectorError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
  }
}

/** ConductorOne could not be reached or answered with an error we cannot act on. */
export class C1UnavailableError extends CoupaConnectorError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.unavailable, ...options });
  }
}
