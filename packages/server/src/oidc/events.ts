import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

import { DatabaseUnavailableError, InvalidValueError, translateDatabaseError } from '@tollgate/db';

import type { Logger } from '../logger.js';
import type { OidcRequestState } from './request-state.js';

interface OAuthError {
  error?: string;
  error_description?: string;
  error_detail?: string;
  status?: number;
}

/** The one place where oidc-provider's events become log lines (the ledger is written inline). */
export function logProviderEvents(provider: Provider, logger: Logger): void {
  const loggerOf = (ctx: KoaContextWithOIDC | undefined): Logger =>
    (ctx?.state as { log?: Logger } | undefined)?.log ?? logger;

  // Koa reports errors outside any route here (e.g. a malformed chunked body); log them.
  const app: Koa = provider;
  app.on('error', (error: Error) => {
    logger.warn({ err: error, event: 'http.client_error' }, 'request could not be read');
  });

  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    const cause = translateDatabaseError(error);

    if (cause instanceof InvalidValueError) {
      // Answered 400 invalid_request by the response shaping: the request's fault.
      (ctx.state as OidcRequestState).invalidValue = true;
      loggerOf(ctx).info(
        { err: error, event: 'oauth.invalid_value' },
        'value refused by the database',
      );
      return;
    }

    if (cause instanceof DatabaseUnavailableError) {
      // Remembered for the response shaping, which answers 503 temporarily_unavailable.
      (ctx.state as OidcRequestState).unavailable = true;
      loggerOf(ctx).warn({ err: error, event: 'database.unavailable' }, 'database unavailable');
      return;
    }

    loggerOf(ctx).error({ err: error, event: 'oauth.server_error' }, 'oauth endpoint failed');
  });

  const logRefusal = (event: string) => (ctx: KoaContextWithOIDC, error: OAuthError) => {
    loggerOf(ctx).info(
      {
        event,
        error: error.error,
        detail: error.error_detail ?? error.error_description,
        clientId: ctx.oidc?.client?.clientId,
      },
      'oauth request refused',
    );
  };

  provider.on('grant.error', logRefusal('grant.error'));
  provider.on('introspection.error', logRefusal('introspection.error'));
  provider.on('revocation.error', logRefusal('revocation.error'));

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    loggerOf(ctx).info(
      {
        event: 'grant.success',
        clientId: ctx.oidc.client?.clientId,
        grantType: ctx.oidc.params?.grant_type,
      },
      'token issued',
    );
  });
}
