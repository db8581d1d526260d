import { describe, expect, it } from 'vitest';
import { documentKindOf, documentPageUuid, documentRequestKey, DocumentPathError, parseDocumentConversionPath } from '../../src/domain/document-conversion.js';

const uuid = '3c9c5a56-7c4a-4b6e-9b1e-2f6f7c1d2a3b';

function refusal(path: string): string {
  try {
    parseDocumentConversionPath(path, 1000);
  } catch (error) {
    expect(error).toBeInstanceOf(DocumentPathError);
    return (error as Error).message;
  }
  throw new Error(`"${path}" was accepted`);
}

describe('the document conversion path grammar', () => {
  it('reads a format and a page, with or without slashes at either end, in any case of the uuid', () => {
    expect(parseDocumentConversionPath(`${uuid}/document/-/format/png/-/page/3/`, 1000)).toEqual({ sourceUuid: uuid, plan: { format: 'png', page: 3 } });
    expect(parseDocumentConversionPath(`/${uuid.toUpperCase()}/document/-/format/jpg`, 1000)).toEqual({ sourceUuid: uuid, plan: { format: 'jpg', page: null } });
    expect(parseDocumentConversionPath(`${uuid}/document/-/page/2/-/format/PNG/`, 1000)).toEqual({ sourceUuid: uuid, plan: { format: 'png', page: 2 } });
    expect(parseDocumentConversionPath(`${uuid}/document/-/format/pdf/`, 1000)).toEqual({ sourceUuid: uuid, plan: { format: 'pdf', page: null } });
  });

  it('refuses what is not a conversion, naming the problem', () => {
    expect(refusal('not-a-uuid/document/-/format/png/')).toMatch(/UUID/);
    expect(refusal(`${uuid}/video/-/format/png/`)).toMatch(/`\/document\/`/);
    expect(refusal(`${uuid}/document/`)).toMatch(/format is required/);
    expect(refusal(`${uuid}/document/-/format/png/-/format/jpg/`)).toMatch(/given twice/);
    expect(refusal(`${uuid}/document/-/format/png/-/resize/10x10/`)).toMatch(/not a document operation/);
    expect(refusal(`${uuid}/document/format/png/`)).toMatch(/operations are written/);
    expect(refusal(`${uuid}/document/-/format/`)).toMatch(/one name/);
    expect(refusal(`${uuid}/document/-/format/png/-/page/0/`)).toMatch(/from 1 to 1000/);
    expect(refusal(`${uuid}/document/-/format/png/-/page/1001/`)).toMatch(/from 1 to 1000/);
    expect(refusal(`${uuid}/document/-/format/png/-/page/two/`)).toMatch(/page number/);
    expect(refusal(`${uuid}/document/-/format/png/-/page/1/2/`)).toMatch(/page number/);
    expect(refusal(`${uuid}/document/-/format/pdf/-/page/1/`)).toMatch(/image formats/);
    expect(refusal(`${uuid}/document/${'-/format/png/'.repeat(100)}`)).toMatch(/1024 characters/);
  });

  it('names the Uploadcare formats Trove does not write, and calls anything else not a format', () => {
    expect(refusal(`${uuid}/document/-/format/docx/`)).toMatch(/does not convert documents to docx; it converts to pdf, png, jpg/);
    expect(refusal(`${uuid}/document/-/format/txt/`)).toMatch(/does not convert documents to txt/);
    expect(refusal(`${uuid}/document/-/format/bogus/`)).toMatch(/`bogus` is not a format/);
  });

  it('keys a request by project, source, plan, store and grouping', () => {
    const plan = { format: 'png' as const, page: 1 };
    const key = documentRequestKey('p1', uuid, plan, { store: true, saveInGroup: false });
    expect(documentRequestKey('p1', uuid, { ...plan }, { store: true, saveInGroup: false })).toBe(key);
    expect(documentRequestKey('p2', uuid, plan, { store: true, saveInGroup: false })).not.toBe(key);
    expect(documentRequestKey('p1', uuid, { format: 'png', page: 2 }, { store: true, saveInGroup: false })).not.toBe(key);
    expect(documentRequestKey('p1', uuid, plan, { store: false, saveInGroup: false })).not.toBe(key);
    expect(documentRequestKey('p1', uuid, plan, { store: true, saveInGroup: true })).not.toBe(key);
  });

  it('derives page uuids from the token, the same on every attempt', () => {
    expect(documentPageUuid('42', 1)).toBe(documentPageUuid('42', 1));
    expect(documentPageUuid('42', 1)).not.toBe(documentPageUuid('42', 2));
    expect(documentPageUuid('42', 1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('tells PDFs and Office files from other files', () => {
    expect(documentKindOf('application/pdf', 'a.bin')).toEqual({ kind: 'pdf', name: 'pdf' });
    expect(documentKindOf('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'a')).toEqual({ kind: 'office', name: 'docx' });
    expect(documentKindOf('application/zip', 'report.XLSX')).toEqual({ kind: 'office', name: 'xlsx' });
    expect(documentKindOf('application/zip', 'archive.zip')).toBeNull();
    expect(documentKindOf('image/png', 'page.docx')).toBeNull();
  });
});
