import type { FastifyRequest } from 'fastify';
import { createAppError } from '../errors.js';
import type { FormPart } from '../services/direct-upload.service.js';

export { lastField } from '../domain/form-fields.js';

export type FieldList = Array<[string, string]>;

/** Adapts @fastify/multipart's part iterator to the framework-free FormPart stream services read. */
export async function* formParts(request: FastifyRequest): AsyncGenerator<FormPart> {
  if (!request.isMultipart()) {
    throw createAppError('PostRequestParserFailedError', 400, 'Expected a multipart/form-data body.');
  }
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      yield { kind: 'file', fieldName: part.fieldname, filename: part.filename || undefined, stream: part.file };
    } else {
      yield { kind: 'field', name: part.fieldname, value: typeof part.value === 'string' ? part.value : String(part.value) };
    }
  }
}

/**
 * Reads the fields of a form that carries no files (multipart or urlencoded) plus the query string,
 * in order, query first, so a body value overrides a query value of the same name.
 */
export async function readFields(request: FastifyRequest): Promise<FieldList> {
  const fields: FieldList = queryFields(request);
  if (request.isMultipart()) {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        part.file.resume();
        throw createAppError('PostRequestParserFailedError', 400, `Field "${part.fieldname}" must not be a file here.`);
      }
      fields.push([part.fieldname, typeof part.value === 'string' ? part.value : String(part.value)]);
    }
  } else if (request.body instanceof URLSearchParams) {
    for (const [name, value] of request.body) fields.push([name, value]);
  }
  return fields;
}

export function queryFields(request: FastifyRequest): FieldList {
  const query = new URL(request.url, 'http://trove.invalid').searchParams;
  return [...query.entries()];
}

export function toRecord(fields: FieldList): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of fields) record[name] = value;
  return record;
}
