import type { ClientWithSecrets } from '@tollgate/db';

/** RFC 8693 token exchange, offered to agents. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Tollgate's own client metadata, carried through oidc-provider as extra properties. */
export const EXTRA_CLIENT_METADATA = ['tollgate_kind', 'tollgate_client_pk'] as const;

/**
 * oidc-provider checks the presence of a secret for secret-based methods; the real secrets are
 * argon2id hashes checked by compareClientSecret, so this value never authenticates anything.
 */
const SECRET_PLACEHOLDER = 'argon2id-hashes-are-checked-by-tollgate';

/** Describes a stored client in the metadata vocabulary of RFC 7591, as oidc-provider reads it. */
export function clientMetadata(row: ClientWithSecrets): Record<string, unknown> {
  const usesSecret = row.auth_method !== 'private_key_jwt';

  return {
    client_id: row.client_id,
    ...(usesSecret ? { client_secret: SECRET_PLACEHOLDER } : { jwks: row.jwks }),
    token_endpoint_auth_method: row.auth_method,
    grant_types: grantTypesOf(row),
    response_types: [],
    redirect_uris: [],
    // oidc-provider accepts only its static scopes here; tool scopes are checked by the
    // resource policy instead, so only admins (whose one scope is static) declare theirs.
    scope: row.kind === 'admin' ? row.tools.join(' ') : undefined,
    tollgate_kind: row.kind,
    tollgate_client_pk: row.id,
  };
}

function grantTypesOf(row: ClientWithSecrets): string[] {
  switch (row.kind) {
    case 'agent':
      return ['client_credentials', TOKEN_EXCHANGE_GRANT];
    case 'admin':
      return ['client_credentials'];
    case 'resource_server':
      return [];
  }
}

/** Reads one of Tollgate's extra metadata properties from an oidc-provider Client. */
export function clientProperty(
  client: object,
  name: (typeof EXTRA_CLIENT_METADATA)[number],
): string {
  const value: unknown = Reflect.get(client, name);

  return typeof value === 'string' ? value : '';
}
