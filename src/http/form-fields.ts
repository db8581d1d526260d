import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { createAppError } from '../errors.js';
import type { FormPart } from '../services/direct-upload.service.js';
import { parseHeaderValue } from './multipart/header-params.js';
import { MultipartReader, multipartBoundary, type MultipartLimits } from './multipart/multipart-reader.js';

type FieldList = Array<[string, string]>;

const FIELD_LIMITS = { maxFields: 2_000, maxFieldBytes: 64 * 1024, maxHeaderBytes: 16 * 1024, maxPreambleBytes: 64 * 1024 };

/** What one form may hold: a form carries the files one request may upload plus the fields around them. */
export function formLimits(upload: Pick<Config['upload'], 'maxFilesPerRequest'>): MultipartLimits {
  return {
    maxParts: upload.maxFilesPerRequest + FIELD_LIMITS.maxFields,
    maxFieldBytes: FIELD_LIMITS.maxFieldBytes,
    maxHeaderBytes: FIELD_LIMITS.maxHeaderBytes,
    maxPreambleBytes: FIELD_LIMITS.maxPreambleBytes,
  };
}

function readerFor(request: FastifyRequest, limits: MultipartLimits): MultipartReader {
  return new MultipartReader(request.raw, multipartBoundary(request.headers['content-type']), limits);
}

/**
 * The parts of a multipart/form-data body as the framework-free FormPart stream services read. A file
 * part's stream must be read (or destroyed) before the next part is asked for; what is left unread is
 * discarded then.
 */
export async function* formParts(request: FastifyRequest, limits: MultipartLimits): AsyncGenerator<FormPart> {
  const reader = readerFor(request, limits);
  for (let head = await reader.nextPart(); head !== null; head = await reader.nextPart()) {
    if (head.isFile) {
      yield { kind: 'file', fieldName: head.name, filename: head.filename || undefined, stream: reader.fileStream() };
    } else {
      yield { kind: 'field', name: head.name, value: await reader.readFieldValue() };
    }
  }
}

/**
 * Reads the fields of a form that carries no files (multipart or urlencoded) plus the query string,
 * in order, query first, so a body value overrides a query value of the same name.
 */
export async function readFields(request: FastifyRequest, limits: MultipartLimits): Promise<FieldList> {
  const fields: FieldList = queryFields(request);
  if (isMultipartRequest(request)) {
    const reader = readerFor(request, limits);
    for (let head = await reader.nextPart(); head !== null; head = await reader.nextPart()) {
      if (head.isFile) {
        throw createAppError('PostRequestParserFailedError', 400, `Field "${head.name.slice(0, 100)}" must not be a file here.`);
      }
      fields.push([head.name, await reader.readFieldValue()]);
    }
  } else if (request.body instanceof URLSearchParams) {
    for (const [name, value] of request.body) fields.push([name, value]);
  }
  return fields;
}

function isMultipartRequest(request: FastifyRequest): boolean {
  return parseHeaderValue(request.headers['content-type'] ?? '').type === 'multipart/form-data';
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
