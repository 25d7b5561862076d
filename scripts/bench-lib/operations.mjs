// The operations the bench measures, each as: which targets can do it, what it needs made
// before the run (a token, a pool of single-use items), and the request it repeats.
import { basicAuth, FORM, formBody } from './http.mjs';
import { clientAssertions, subjectTokens } from './keys.mjs';
import { clientCredentialsFields, issueTokens, revokeToken } from './targets.mjs';

/** @typedef {import('./targets.mjs').Target} Target */
/** @typedef {import('./load.mjs').LoadSpec} LoadSpec */

/**
 * @typedef {object} PrepareContext
 * @property {string} scope
 * @property {number} poolSize single-use items this run needs
 * @property {string[]} spareTokens access tokens of the secret agent, issued earlier and unused
 */

/**
 * @typedef {object} Operation
 * @property {string} id
 * @property {string} label
 * @property {(target: Target) => string | undefined} skipReason undefined when supported
 * @property {boolean} pooled whether each request uses up one pre-made item
 * @property {(target: Target, context: PrepareContext) => Promise<LoadSpec>} prepare
 */

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const issuesToken = (body) => body.includes('"access_token"');
const isActive = (body) => body.includes('"active":true');
const isInactive = (body) => body === '{"active":false}';

/** @type {Operation[]} */
export const OPERATIONS = [
  {
    id: 'cc_secret',
    label: 'client_credentials, client_secret_basic',
    skipReason: () => undefined,
    pooled: false,
    prepare: async (target, { scope, spareTokens }) => ({
      url: target.endpoints.token,
      headers: {
        authorization: basicAuth(target.agent.id, target.agent.secret),
        'content-type': FORM,
      },
      body: formBody(clientCredentialsFields(target, scope)),
      // The tokens issued here are the ones the revocation run revokes later.
      verify: (body) => keepToken(body, spareTokens),
    }),
  },
  {
    id: 'cc_jwt',
    label: 'client_credentials, private_key_jwt',
    skipReason: () => undefined,
    pooled: true,
    prepare: async (target, { scope, poolSize }) => {
      const base = clientCredentialsFields(target, scope);
      const pool = await clientAssertions(poolSize, {
        clientId: target.jwtAgent.id,
        audience: target.issuer,
        keys: target.jwtAgent.keys,
      });

      return {
        url: target.endpoints.token,
        headers: { 'content-type': FORM },
        pool,
        bodyFor: (assertion) =>
          formBody({ ...base, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }),
        verify: issuesToken,
      };
    },
  },
  {
    id: 'introspect_active',
    label: 'introspection, active token',
    skipReason: () => undefined,
    pooled: false,
    prepare: async (target, { scope }) => {
      const [token] = await issueTokens(target, 1, scope);

      return introspection(target, token ?? '', isActive);
    },
  },
  {
    id: 'introspect_revoked',
    label: 'introspection, revoked token',
    skipReason: () => undefined,
    pooled: false,
    prepare: async (target, { scope }) => {
      const [token] = await issueTokens(target, 1, scope);
      await revokeToken(target, token ?? '');

      return introspection(target, token ?? '', isInactive);
    },
  },
  {
    id: 'revoke',
    label: 'revocation, a different token each',
    skipReason: () => undefined,
    pooled: true,
    prepare: async (target, { scope, poolSize, spareTokens }) => {
      const missing = Math.max(0, poolSize - spareTokens.length);
      const pool = spareTokens.splice(0, poolSize);

      pool.push(...(await issueTokens(target, missing, scope)));

      return {
        url: target.endpoints.revocation,
        headers: {
          authorization: basicAuth(target.agent.id, target.agent.secret),
          'content-type': FORM,
        },
        pool,
        bodyFor: (token) => formBody({ token }),
      };
    },
  },
  {
    id: 'token_exchange',
    label: 'token exchange (RFC 8693), IdP JWT subject',
    skipReason: (target) =>
      target.exchange === undefined ? 'no token exchange on this target' : undefined,
    pooled: true,
    prepare: async (target, { scope, poolSize }) => {
      const exchange = target.exchange;
      if (exchange === undefined) throw new Error('token exchange is not set up');
      const pool = await subjectTokens(poolSize, {
        issuer: exchange.subjectIssuer,
        audience: exchange.subjectAudience,
        keys: exchange.keys,
      });

      return {
        url: target.endpoints.token,
        headers: {
          authorization: basicAuth(exchange.agent.id, exchange.agent.secret),
          'content-type': FORM,
        },
        pool,
        bodyFor: (subjectToken) =>
          formBody({
            grant_type: EXCHANGE_GRANT,
            subject_token: subjectToken,
            subject_token_type: JWT_TOKEN_TYPE,
            scope,
            resource: target.audience,
          }),
        verify: issuesToken,
      };
    },
  },
  {
    id: 'usage',
    label: 'usage report (POST /usage)',
    skipReason: (target) =>
      target.usage === undefined ? 'no usage ingestion on this target' : undefined,
    pooled: false,
    prepare: async (target, { scope }) => {
      const [token] = await issueTokens(target, 1, scope);
      const report = {
        token,
        tool: scope.split(' ')[0],
        input_tokens: 1200,
        output_tokens: 300,
        cost: '0.0042',
        currency: 'USD',
        // autocannon puts a fresh id here on every request: each report is a new one.
        idempotency_key: '[<id>]',
      };

      return {
        url: target.usage ?? '',
        headers: {
          authorization: basicAuth(target.resourceServer.id, target.resourceServer.secret),
          'content-type': 'application/json',
        },
        body: JSON.stringify(report),
        idReplacement: true,
        verify: (body) => body.includes('"token_id"'),
      };
    },
  },
];

/**
 * The floor's one operation, measured against the same request body as client_credentials.
 * @param {string} url
 * @param {string} scope
 * @returns {LoadSpec}
 */
export function floorSpec(url, scope) {
  return {
    url,
    headers: { 'content-type': FORM },
    body: formBody({ grant_type: 'client_credentials', scope }),
    verify: issuesToken,
  };
}

/** @param {Target} target @param {string} token @param {(body: string) => boolean} verify */
function introspection(target, token, verify) {
  return {
    url: target.endpoints.introspection,
    headers: {
      authorization: basicAuth(target.resourceServer.id, target.resourceServer.secret),
      'content-type': FORM,
    },
    body: formBody({ token }),
    verify,
  };
}

/** Checks that a token came back, and keeps it for the revocation run. */
function keepToken(body, sink) {
  const match = /"access_token":"([^"]+)"/.exec(body);

  if (match?.[1] === undefined) return false;
  sink.push(match[1]);

  return true;
}
