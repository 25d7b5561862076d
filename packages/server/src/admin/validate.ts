import type { ParsedUrlQuery } from 'node:querystring';

import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { invalidInput } from '@tollgate/core';

import { noQuery, type JsonSchema } from './schemas.js';

/** Enough field problems to fix a request; more only make the answer larger. */
const MAX_REPORTED_ERRORS = 20;

const options = { allErrors: true, strict: true, allowUnionTypes: true } as const;

const bodyAjv = new Ajv2020(options);

// Query strings carry only text: numbers and booleans are coerced to their schema type there,
// never in bodies, where "5" for 5 is a client bug worth reporting.
const queryAjv = new Ajv2020({ ...options, coerceTypes: true });

// ajv-formats is CommonJS; its callable export is reachable as `.default` under NodeNext.
addFormats.default(bodyAjv);
addFormats.default(queryAjv);

/** A checked input: returns the value typed when it matches its schema, or throws 400. */
export type Validator<T> = (value: unknown) => T;

/** Compiles a JSON body schema once; the validator reports every field problem at once. */
export function bodyValidator<T>(schema: JsonSchema): Validator<T> {
  const check = bodyAjv.compile<T>(schema);

  return (value) => {
    if (check(value)) {
      return value;
    }

    throw invalidInput('the request body is invalid', fieldProblems(check.errors, 'property'));
  };
}

/** Compiles a query-string schema once; unknown and repeated parameters are refused. */
export function queryValidator<T>(schema: JsonSchema): (query: ParsedUrlQuery) => T {
  const check = queryAjv.compile<T>(schema);

  return (query) => {
    // Coercion rewrites the object it checks; work on a copy of Koa's parsed query.
    const value: unknown = { ...query };

    if (check(value)) {
      return value;
    }

    throw invalidInput('the query is invalid', fieldProblems(check.errors, 'query parameter'));
  };
}

/** Turns ajv's errors into `{path, message}` pairs with JSON-Pointer paths minus the slash. */
function fieldProblems(
  errors: ErrorObject[] | null | undefined,
  noun: string,
): { path: string; message: string }[] {
  return (errors ?? []).slice(0, MAX_REPORTED_ERRORS).map((error) => fieldProblem(error, noun));
}

function fieldProblem(error: ErrorObject, noun: string): { path: string; message: string } {
  const base = error.instancePath.replace(/^\//, '');
  const join = (name: string) => (base === '' ? name : `${base}/${name}`);

  const missing: unknown = error.params.missingProperty;
  const unknown: unknown = error.params.additionalProperty;

  if (error.keyword === 'required' && typeof missing === 'string') {
    return { path: join(missing), message: 'is required' };
  }

  if (error.keyword === 'additionalProperties' && typeof unknown === 'string') {
    return { path: join(unknown), message: `unknown ${noun}` };
  }

  return { path: base, message: error.message ?? 'is invalid' };
}

/** For routes that take no query parameters: any parameter is refused as unknown. */
export const checkNoQuery: (query: ParsedUrlQuery) => Record<string, never> =
  queryValidator(noQuery);

/** The schema checks RFC 3339 syntax; this refuses what still does not name a real instant. */
export function instant(value: string | undefined, path: string): Date | undefined {
  if (value === undefined) {
    return undefined;
  }

  const date = new Date(value);

  if (Number.isNaN(date.getTime())) {
    throw invalidInput('invalid time', [{ path, message: 'must be an RFC 3339 date-time' }]);
  }

  return date;
}
