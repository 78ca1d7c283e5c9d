// API errors as the Kubernetes API server reports them: a meta/v1 Status with reason, code and, for
// validation failures, one cause per field error. Messages follow apimachinery's wording
// (`Service "web" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`).

import type { Status, StatusCause } from './types.js';

/** k8s.io/apimachinery/pkg/util/validation/field ErrorType, with its human text and cause reason. */
export const FIELD_ERROR_TYPES = {
  Required: { text: 'Required value', reason: 'FieldValueRequired' },
  Invalid: { text: 'Invalid value', reason: 'FieldValueInvalid' },
  Duplicate: { text: 'Duplicate value', reason: 'FieldValueDuplicate' },
  NotSupported: { text: 'Unsupported value', reason: 'FieldValueNotSupported' },
  Forbidden: { text: 'Forbidden', reason: 'FieldValueForbidden' },
  TooLong: { text: 'Too long', reason: 'FieldValueTooLong' },
  TooMany: { text: 'Too many', reason: 'FieldValueTooMany' },
  NotFound: { text: 'Not found', reason: 'FieldValueNotFound' },
} as const;

export type FieldErrorType = keyof typeof FIELD_ERROR_TYPES;

/** One problem with one field, e.g. {type:'Invalid', field:'spec.ports[0].port', value:0, detail:'must be ...'}. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value; omitted for Required and Forbidden, as apimachinery does. */
  value?: unknown;
  detail?: string;
}

/** A value shown verbatim in messages: Go's %#v of a map or struct (`map[string]string{"app":"x"}`). */
export class GoSyntax {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Go's %#v-like rendering used in field error messages: strings quoted, numbers bare. */
function renderValue(v: unknown): string {
  if (v instanceof GoSyntax) return v.text;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) {
    const allStrings = v.every((x) => typeof x === 'string');
    return `${allStrings ? '[]string' : '[]interface {}'}{${v.map(renderValue).join(', ')}}`;
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The body of a field error without its field path: `Invalid value: 0: must be ...`. */
export function fieldErrorBody(e: FieldError): string {
  const t = FIELD_ERROR_TYPES[e.type];
  const showValue = e.type !== 'Required' && e.type !== 'Forbidden' && e.type !== 'TooLong' && 'value' in e;
  let s = t.text;
  if (showValue) s += `: ${renderValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({ type: 'Required', field, detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'Invalid', field, value, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'NotSupported',
    field,
    value,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail }),
  tooLong: (field: string, max: number): FieldError => ({ type: 'TooLong', field, detail: `must have at most ${max} bytes` }),
};

/** An error the API returns to its client: carries the Status object it is served as. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

function status(code: number, reason: string, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

/** `pods "web" not found`; `resource` is the plural, prefixed with its group when it has one. */
export function notFound(resource: string, name: string): ApiError {
  return new ApiError(status(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource }));
}

export function alreadyExists(resource: string, name: string): ApiError {
  return new ApiError(status(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource }));
}

export function conflict(resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(status(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource }));
}

/** 422 Invalid with one cause per field error, worded as the API server does. */
export function invalid(kind: string, name: string, errs: FieldError[]): ApiError {
  const list = errs.map(fieldErrorString);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const causes: StatusCause[] = errs.map((e) => ({ reason: FIELD_ERROR_TYPES[e.type].reason, message: fieldErrorBody(e), field: e.field }));
  return new ApiError(status(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, { name, kind, causes }));
}

export function gone(message: string): ApiError {
  return new ApiError(status(410, 'Expired', message));
}

export function badRequest(message: string): ApiError {
  return new ApiError(status(400, 'BadRequest', message));
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(status(405, 'MethodNotAllowed', message));
}

export function unauthorized(): ApiError {
  return new ApiError(status(401, 'Unauthorized', 'Unauthorized'));
}

export function forbiddenError(message: string): ApiError {
  return new ApiError(status(403, 'Forbidden', message));
}

export function internalError(message: string): ApiError {
  return new ApiError(status(500, 'InternalError', `Internal error occurred: ${message}`));
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
