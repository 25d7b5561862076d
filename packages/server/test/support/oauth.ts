import * as client from 'openid-client';

import { basicAuth, type TestTollgate } from './tollgate.js';

/** Whatever a client authenticates with at the OAuth endpoints. */
export interface Credentials {
  clientId: string;
  secret: string;
}

/** An OAuth endpoint's answer, read raw so that tests can check the exact error shape. */
export interface OAuthReply {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is empty or not JSON. */
  body: Record<string, unknown>;
  text: string;
}

export type Endpoint = 'token' | 'token/introspection' | 'token/revocation';

/** openid-client configured the way an agent or resource server would, over plain HTTP. */
export function discover(
  tollgate: TestTollgate,
  clientId: string,
  auth: client.ClientAuth,
): Promise<client.Configuration> {
  return client.discovery(new URL(tollgate.issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
    algorithm: 'oauth2',
  });
}

/** openid-client with HTTP Basic client authentication. */
export function secretClient(
  tollgate: TestTollgate,
  credentials: Credentials,
): Promise<client.Configuration> {
  return discover(tollgate, credentials.clientId, client.ClientSecretBasic(credentials.secret));
}

/** Gets a token with openid-client's client credentials grant. */
export async function agentToken(
  config: client.Configuration,
  scope: string,
  resource?: string,
): Promise<string> {
  const parameters: Record<string, string> = { scope };

  if (resource !== undefined) {
    parameters.resource = resource;
  }

  const response = await client.clientCredentialsGrant(config, parameters);

  return response.access_token;
}

/** POSTs a form to one of the OAuth endpoints. */
export async function postForm(
  tollgate: TestTollgate,
  endpoint: Endpoint,
  form: URLSearchParams | string,
  headers: Record<string, string> = {},
): Promise<OAuthReply> {
  const response = await fetch(`${tollgate.issuer}/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form.toString(),
  });
  const text = await response.text();

  return { status: response.status, headers: response.headers, body: parseJson(text), text };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);

    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The same secret with its last character changed: right shape and id, wrong value. */
export function wrongSecret(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
}

const authHeader = (credentials: Credentials | undefined): Record<string, string> =>
  credentials === undefined
    ? {}
    : { authorization: basicAuth(credentials.clientId, credentials.secret) };

/** A client credentials token request with HTTP Basic authentication (or none). */
export function requestToken(
  tollgate: TestTollgate,
  credentials: Credentials | undefined,
  parameters: Record<string, string> | string,
): Promise<OAuthReply> {
  const form =
    typeof parameters === 'string'
      ? parameters
      : new URLSearchParams({ grant_type: 'client_credentials', ...parameters });

  return postForm(tollgate, 'token', form, authHeader(credentials));
}

/** RFC 7662 introspection with HTTP Basic authentication (or none). */
export function introspect(
  tollgate: TestTollgate,
  caller: Credentials | undefined,
  token: string,
  extra: Record<string, string> = {},
): Promise<OAuthReply> {
  const form = new URLSearchParams({ token, ...extra });

  return postForm(tollgate, 'token/introspection', form, authHeader(caller));
}

/** RFC 7009 revocation with HTTP Basic authentication. */
export function revoke(
  tollgate: TestTollgate,
  caller: Credentials,
  token: string,
  extra: Record<string, string> = {},
): Promise<OAuthReply> {
  const form = new URLSearchParams({ token, ...extra });

  return postForm(tollgate, 'token/revocation', form, authHeader(caller));
}

/** The token's introspection `active` member as the resource server sees it. */
export async function isActive(
  tollgate: TestTollgate,
  resourceServer: Credentials,
  token: string,
): Promise<boolean> {
  const reply = await introspect(tollgate, resourceServer, token);

  if (reply.status !== 200) {
    throw new Error(`introspection failed: ${reply.status} ${reply.text}`);
  }

  return reply.body.active === true;
}

/** Asserts an RFC 6749 §5.2 error code and status in a JSON body. */
export function expectErrorCode(reply: OAuthReply, status: number, error: string): void {
  expect({ status: reply.status, error: reply.body.error }).toEqual({ status, error });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
}

/** Asserts the whole RFC 6749 §5.2 error shape: status, JSON `error`, and no caching. */
export function expectOAuthError(reply: OAuthReply, status: number, error: string): void {
  expectErrorCode(reply, status, error);
  expect(reply.headers.get('cache-control')).toBe('no-store');
}
