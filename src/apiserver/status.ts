// kube-apiserver's error vocabulary: every failure is a `Status` object with an
// HTTP code, a machine-readable reason and a human message worded as the real
// server words it (clients such as kubectl print the message verbatim).

import type { JsonObject, ResourceInfo } from './types.ts';

/** One field problem of a 422 Invalid answer. */
export interface Cause {
  readonly field: string;
  readonly reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden';
  readonly message: string;
}

/** A failed API request: the HTTP code and the `Status` body to send. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: JsonObject;

  constructor(code: number, reason: string, message: string, details?: JsonObject) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason,
      ...(details ? { details } : {}), code,
    };
  }
}

/** `services` or `endpointslices.discovery.k8s.io`, as messages name a resource. */
export function qualifiedResource(r: ResourceInfo): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function details(r: ResourceInfo, name: string): JsonObject {
  return { name, ...(r.group ? { group: r.group } : {}), kind: r.plural };
}

/** 404 NotFound for a named object. */
export function notFound(r: ResourceInfo, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, details(r, name));
}

/** 404 for a path the server does not serve. */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 409 AlreadyExists on create. */
export function alreadyExists(r: ResourceInfo, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, details(r, name));
}

/** 409 Conflict: the resourceVersion (or a precondition) does not match. */
export function conflict(r: ResourceInfo, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`, details(r, name));
}

/** 422 Invalid with field causes, worded like apimachinery's field.ErrorList. */
export function invalid(r: ResourceInfo, name: string, causes: readonly Cause[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = text.length === 1 ? text[0]! : `[${text.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${joined}`, {
    name, ...(r.group ? { group: r.group } : {}), kind: r.kind,
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 410 Expired: a resourceVersion or continue token older than the retained history. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** The message kube-apiserver's watch cache gives for a compacted resourceVersion. */
export function tooOldMessage(requested: number, oldest: number): string {
  return `too old resource version: ${requested} (${oldest})`;
}

/** 504 for a resourceVersion newer than the server has seen (kube-apiserver's ResourceVersionTooLarge). */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** 401 Unauthorized (missing or wrong bearer token). */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** 415 UnsupportedMediaType for a PATCH content type the server does not take. */
export function unsupportedPatchType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType}) - accepted media types include: ` +
    'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json');
}

/** The Success Status kube-apiserver answers a DELETE with for most resources. */
export function deleteSuccess(r: ResourceInfo, name: string, uid: string): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details(r, name), uid } };
}
