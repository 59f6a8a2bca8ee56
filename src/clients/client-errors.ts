/** What can go wrong with clients, independent of the API that reports it. */
export class ClientNotFoundError extends Error {
  override name = 'ClientNotFoundError';
}

export class ClientExistsError extends Error {
  override name = 'ClientExistsError';
}

export class ClientInUseError extends Error {
  override name = 'ClientInUseError';
}

/** Why access details were refused: maubot's three cases. */
export type AccessProblem = 'token' | 'details' | 'connection';

export class ClientAccessError extends Error {
  override name = 'ClientAccessError';
  constructor(
    readonly problem: AccessProblem,
    message: string,
  ) {
    super(message);
  }
}

/** The token belongs to another user or device than the client it is for. */
export class ClientIdentityMismatchError extends Error {
  override name = 'ClientIdentityMismatchError';
  constructor(
    readonly field: 'user' | 'device',
    readonly found: string,
  ) {
    super(`the access token is for ${field} ${found}`);
  }
}

/** No `homeservers` entry of that name in the configuration. */
export class AuthServerNotFoundError extends Error {
  override name = 'AuthServerNotFoundError';
}

export class CredentialsMissingError extends Error {
  override name = 'CredentialsMissingError';
}

/** Registration needs the server's shared secret in the configuration. */
export class RegistrationSecretMissingError extends Error {
  override name = 'RegistrationSecretMissingError';
}

/** Registration is password-only. */
export class RegistrationSsoError extends Error {
  override name = 'RegistrationSsoError';
}

export class SsoNotSupportedError extends Error {
  override name = 'SsoNotSupportedError';
}

export class SsoSessionNotFoundError extends Error {
  override name = 'SsoSessionNotFoundError';
}

/** The homeserver refused a login or registration; `during` says which (they answer differently). */
export class AccountRefusedError extends Error {
  override name = 'AccountRefusedError';
  constructor(
    readonly during: 'login' | 'register',
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

/** The login or registration request carries no JSON object (checked after the server). */
export class AuthRequestNotJsonError extends Error {
  override name = 'AuthRequestNotJsonError';
}
