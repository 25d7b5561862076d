/** RFC 8693 §3 token type identifiers. */
export const TokenType = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
} as const;

/** Subject token types Tollgate can verify: its own tokens, and JWTs from trusted issuers. */
export const SUBJECT_TOKEN_TYPES: readonly string[] = [
  TokenType.accessToken,
  TokenType.jwt,
  TokenType.idToken,
];

/** Actor tokens: the agent's own Tollgate token, or a JWT signed with its registered key. */
export const ACTOR_TOKEN_TYPES: readonly string[] = [TokenType.accessToken, TokenType.jwt];

/** Tollgate issues opaque access tokens only. */
export const ISSUABLE_TOKEN_TYPES: readonly string[] = [TokenType.accessToken];
