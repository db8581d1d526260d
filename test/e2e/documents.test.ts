import {
  ConversionStatus,
  ConversionType,
  conversionInfo,
  conversionJobPoller,
  conversionJobStatus,
  convert,
  UploadcareAuthSchema,
  type UserSettings,
} from '@uploadcare/rest-client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptedPdf, hugePagePdf, javascriptPdf, thousandsOfPagesPdf, truncatedPdf } from '../helpers/hostile-pdfs.js';
import { libreOfficeForTests } from '../helpers/libreoffice.js';
import { docxOf } from '../helpers/office-files.js';
import { a4Pdf, buildPdf } from '../helpers/pdf-files.js';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { fileInfo, sleep, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

interface Conversion {
  problems: Record<string, string>;
  result: { original_source: string; token: number; uuid: string }[];
}
interface Status {
  status: string;
  error: string | null;
  result: { uuid: string } | null;
}

function rest(trove: TestTrove, pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${trove.url}${pathname}`, {
    ...init,
    headers: {
      Accept: 'application/vnd.uploadcare-v0.7+json',
      'Content-Type': 'application/json',
      Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`,
    },
  });
}

async function postConvert(trove: TestTrove, body: unknown): Promise<{ status: number; body: Conversion & { detail?: string } }> {
  const response = await rest(trove, '/convert/document/', { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Conversion & { detail?: string } };
}

async function waitForConversion(trove: TestTrove, token: number, timeoutMs = 120_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await rest(trove, `/convert/document/status/${token}/`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as Status;
    if (status.status === 'finished' || status.status === 'failed' || status.status === 'cancelled') return status;
    if (Date.now() > deadline) throw new Error(`conversion ${token} still ${status.status}`);
    await sleep(100);
  }
}

async function download(trove: TestTrove, uuid: string): Promise<Buffer> {
  const response = await fetch(`${trove.url}/${uuid}/`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Converts one path and waits for the end: its status. */
async function convertOne(trove: TestTrove, path: string, extra: Record<string, unknown> = {}): Promise<{ job: Conversion['result'][number]; done: Status }> {
  const answer = await postConvert(trove, { paths: [path], store: '1', ...extra });
  expect(answer.status).toBe(200);
  expect(answer.body.problems).toEqual({});
  const job = answer.body.result[0]!;
  return { job, done: await waitForConversion(trove, job.token) };
}

describe('PDF previews on the CDN', () => {
  let trove: TestTrove;
  let pdf: string;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_DOCUMENT_MAX_PAGES: '100' } });
    pdf = await uploadFile(trove, a4Pdf(2, 'Preview'), 'brochure.pdf');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('draws page 1 of a PDF and transforms it like an image, then serves it from the cache', async () => {
    const info = await fileInfo(trove, pdf);
    expect(info).toMatchObject({ mime_type: 'application/pdf', is_image: false });
    const first = await fetch(`${trove.url}/${pdf}/-/preview/400x400/`);
    expect(first.status).toBe(200);
    const bytes = Buffer.from(await first.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    // A4 inside 400 × 400: 283 × 400.
    expect(meta).toMatchObject({ width: 283, height: 400 });
    expect(first.headers.get('content-type')).toMatch(/^image\//);
    const again = await fetch(`${trove.url}/${pdf}/-/preview/400x400/`);
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);

    const png = await fetch(`${trove.url}/${pdf}/-/resize/200x/-/format/png/`);
    expect(png.status).toBe(200);
    expect(await sharp(Buffer.from(await png.arrayBuffer())).metadata()).toMatchObject({ format: 'png', width: 200 });
    const grey = await fetch(`${trove.url}/${pdf}/-/scale_crop/100x100/center/-/grayscale/-/format/jpeg/`);
    expect(grey.status).toBe(200);
    expect(await sharp(Buffer.from(await grey.arrayBuffer())).metadata()).toMatchObject({ format: 'jpeg', width: 100, height: 100 });
    // The original is still the PDF.
    expect((await download(trove, pdf)).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('answers hostile PDFs with a 4xx that names the problem, and keeps serving', async () => {
    const cases: [Buffer, number, string][] = [
      [await encryptedPdf(a4Pdf(1)), 422, 'DOCUMENT_ENCRYPTED'],
      [truncatedPdf(), 422, 'DOCUMENT_INVALID'],
      [thousandsOfPagesPdf(3000), 422, 'DOCUMENT_TOO_LARGE'],
      [hugePagePdf(), 422, 'DOCUMENT_TOO_LARGE'],
    ];
    for (const [bytes, status, code] of cases) {
      const uuid = await uploadFile(trove, bytes, `${code.toLowerCase()}.pdf`);
      const response = await fetch(`${trove.url}/${uuid}/-/preview/200x200/`);
      const text = await response.text();
      expect({ status: response.status, text }).toMatchObject({ status, text: expect.stringContaining(code === 'DOCUMENT_INVALID' ? 'cannot be read' : code === 'DOCUMENT_ENCRYPTED' ? 'encrypted' : '') });
    }
    // Scripts in a PDF are never run: the page is drawn like any other.
    const scripted = await uploadFile(trove, javascriptPdf(), 'scripted.pdf');
    const drawn = await fetch(`${trove.url}/${scripted}/-/preview/150x150/`);
    expect(drawn.status).toBe(200);
    expect((await fetch(`${trove.url}/${pdf}/-/preview/100x100/`)).status).toBe(200);
  }, 60_000);
});

describe('POST /convert/document/ over HTTP', () => {
  let trove: TestTrove;
  let pdf: string;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_DOCUMENT_MAX_PAGES: '100' } });
    pdf = await uploadFile(trove, buildPdf({ pages: [{ width: 595, height: 842 }, { width: 842, height: 595 }, { width: 300, height: 300 }], text: 'Pages' }), 'pages.pdf');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('draws the page asked for into a new stored file of the project, once for the same request', async () => {
    const path = `${pdf}/document/-/format/png/-/page/2/`;
    const { job, done } = await convertOne(trove, path);
    expect(job).toEqual({ original_source: path, token: expect.any(Number), uuid: expect.any(String) });
    expect(done).toEqual({ status: 'finished', error: null, result: { uuid: job.uuid } });
    const again = await postConvert(trove, { paths: [path.replace(/\/$/, '')], store: 'true' });
    expect(again.body.result[0]).toMatchObject({ token: job.token, uuid: job.uuid });

    const info = await fileInfo(trove, job.uuid);
    expect(info).toMatchObject({ mime_type: 'image/png', is_image: true, is_stored: true, original_filename: 'pages-page-2.png' });
    // The landscape page at 150 dpi.
    expect(await sharp(await download(trove, job.uuid)).metadata()).toMatchObject({ format: 'png', width: 1754, height: 1240 });
  }, 60_000);

  it('writes JPEG, and with save_in_group every page into a group named by the document info', async () => {
    const { job, done } = await convertOne(trove, `${pdf}/document/-/format/jpg/`, { save_in_group: '1' });
    expect(done.status).toBe('finished');
    const first = await sharp(await download(trove, job.uuid)).metadata();
    expect(first).toMatchObject({ format: 'jpeg', width: 1240, height: 1754 });

    const infoResponse = await rest(trove, `/convert/document/${pdf}/`);
    expect(infoResponse.status).toBe(200);
    const info = (await infoResponse.json()) as { error: string | null; format: { name: string; conversion_formats: { name: string }[] }; converted_groups: Record<string, string> };
    expect(info.format).toEqual({ name: 'pdf', conversion_formats: [{ name: 'jpg' }, { name: 'png' }] });
    expect(info.error).toBeNull();
    const group = info.converted_groups['jpg'];
    expect(group).toMatch(/~3$/);
    const groupResponse = await rest(trove, `/groups/${group}/`);
    const members = ((await groupResponse.json()) as { files: { uuid: string; mime_type: string; content_info: { image: { width: number; height: number } } }[] }).files;
    expect(members.map((member) => member.mime_type)).toEqual(['image/jpeg', 'image/jpeg', 'image/jpeg']);
    expect(members[0]!.uuid).toBe(job.uuid);
    expect(members.map((member) => [member.content_info.image.width, member.content_info.image.height])).toEqual([
      [1240, 1754],
      [1754, 1240],
      [625, 625],
    ]);
  }, 60_000);

  it('answers refused paths in problems and bad bodies with 400, and keeps other projects\' conversions apart', async () => {
    const image = await uploadFile(trove, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer(), 'red.png');
    const missing = '0b6a0a38-2d4c-4d16-9b0a-5a3c8c0e7e11';
    const paths = [
      `${pdf}/document/-/format/docx/`,
      `${pdf}/document/-/format/pdf/`,
      `${image}/document/-/format/png/`,
      `${missing}/document/-/format/png/`,
      `${pdf}/document/-/format/png/-/page/101/`,
      `${pdf}/document/-/format/png/-/page/1/`,
    ];
    const answer = await postConvert(trove, { paths });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body.problems)).toEqual(paths.slice(0, 5));
    expect(answer.body.problems[paths[0]!]).toMatch(/does not convert documents to docx/);
    expect(answer.body.problems[paths[1]!]).toMatch(/a PDF already/);
    expect(answer.body.problems[paths[2]!]).toMatch(/image\/png, not a document/);
    expect(answer.body.problems[paths[3]!]).toMatch(/does not exist in this project/);
    expect(answer.body.problems[paths[4]!]).toMatch(/from 1 to 100/);
    expect(answer.body.result).toHaveLength(1);

    for (const body of [{}, { paths: [] }, { paths: 'x' }, { paths: [pdf], store: 'maybe' }, { paths: [`${pdf}/document/-/format/png/`], save_in_group: 'sometimes' }]) {
      const refused = await postConvert(trove, body);
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toEqual(expect.any(String));
    }
    expect((await rest(trove, '/convert/document/status/123456/')).status).toBe(404);
    expect((await rest(trove, '/convert/document/status/abc/')).status).toBe(404);
    expect((await rest(trove, `/convert/document/${missing}/`)).status).toBe(404);
    expect((await rest(trove, '/convert/document/not-a-uuid/')).status).toBe(404);

    // Another project sees neither the conversion nor the file.
    const token = answer.body.result[0]!.token;
    const other = await trove.ctx.services.projects.create({ name: 'Other' });
    const otherAuth = { Accept: 'application/vnd.uploadcare-v0.7+json', 'Content-Type': 'application/json', Authorization: `Uploadcare.Simple ${other.project.publicKey}:${other.secrets[0]!.secret}` };
    expect((await fetch(`${trove.url}/convert/document/status/${token}/`, { headers: otherAuth })).status).toBe(404);
    expect((await fetch(`${trove.url}/convert/document/${pdf}/`, { headers: otherAuth })).status).toBe(404);
    const foreign = await fetch(`${trove.url}/convert/document/`, { method: 'POST', headers: otherAuth, body: JSON.stringify({ paths: [`${pdf}/document/-/format/png/`] }) });
    expect(((await foreign.json()) as Conversion).problems[`${pdf}/document/-/format/png/`]).toMatch(/does not exist in this project/);
  }, 60_000);

  it('fails the conversion of hostile PDFs with the reason', async () => {
    const cases: [Buffer, RegExp][] = [
      [await encryptedPdf(a4Pdf(1)), /encrypted/],
      [truncatedPdf(), /cannot be read/],
      [thousandsOfPagesPdf(3000), /3000 pages; Trove reads documents of up to 100/],
      [hugePagePdf(), /200000 × 200000 points/],
    ];
    for (const [bytes, reason] of cases) {
      const uuid = await uploadFile(trove, bytes, 'hostile.pdf');
      const { done } = await convertOne(trove, `${uuid}/document/-/format/png/`);
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(reason);
    }
    const pastTheEnd = await convertOne(trove, `${pdf}/document/-/format/png/-/page/7/`);
    expect(pastTheEnd.done).toMatchObject({ status: 'failed', error: expect.stringMatching(/Page 7 does not exist: the document has 3 pages/) });
    // A failed conversion asked for again starts again, under its token.
    const retried = await postConvert(trove, { paths: [`${pdf}/document/-/format/png/-/page/7/`], store: '1' });
    expect(retried.body.result[0]!.token).toBe(pastTheEnd.job.token);
  }, 120_000);
});

describe.each(backends)('@uploadcare/rest-client document conversion, unchanged (%s)', (backend) => {
  let trove: TestTrove;
  let settings: UserSettings;
  let pdf: string;
  beforeAll(async () => {
    trove = await startTrove({ backend });
    settings = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
    pdf = await uploadFile(trove, a4Pdf(2), 'sdk.pdf');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('convert, conversionJobStatus, conversionJobPoller and conversionInfo with type document', async () => {
    const path = `${pdf}/document/-/format/png/-/page/1/`;
    const response = await convert({ type: ConversionType.DOCUMENT, paths: [path], store: true }, settings);
    expect(response.problems).toEqual({});
    expect(response.result).toEqual([{ originalSource: path, token: expect.any(Number), uuid: expect.any(String) }]);
    const token = response.result[0]!.token;
    let status = await conversionJobStatus({ type: ConversionType.DOCUMENT, token }, settings);
    for (let i = 0; i < 600 && status.status !== ConversionStatus.FINISHED && status.status !== ConversionStatus.FAILED; i += 1) {
      await sleep(100);
      status = await conversionJobStatus({ type: ConversionType.DOCUMENT, token }, settings);
    }
    expect(status).toEqual({ status: ConversionStatus.FINISHED, error: null, result: { uuid: response.result[0]!.uuid } });

    const polled = await conversionJobPoller({ type: ConversionType.DOCUMENT, paths: [`${pdf}/document/-/format/jpg/`], store: false, saveInGroup: true, pollOptions: { interval: 100, timeout: 60_000 } }, settings);
    const [outcome] = await Promise.all(polled);
    expect(outcome).toMatchObject({ path: `${pdf}/document/-/format/jpg/`, status: ConversionStatus.FINISHED, error: null });

    await expect(conversionInfo({ uuid: 'not-a-uuid' }, settings)).rejects.toMatchObject({ status: 404 });
    await expect(conversionJobStatus({ type: ConversionType.DOCUMENT, token: 99 }, settings)).rejects.toMatchObject({ status: 404 });
    const info = await conversionInfo({ uuid: pdf }, settings);
    expect(info.format).toEqual({ name: 'pdf', conversionFormats: [{ name: 'jpg' }, { name: 'png' }] });
    expect(info.convertedGroups['jpg']).toMatch(/~2$/);
    const stored = await fileInfo(trove, (outcome as { result: { uuid: string } }).result.uuid);
    expect(stored.is_stored).toBe(false);
  }, 120_000);
});

const office = libreOfficeForTests();

describe.skipIf(!office.present)('Office documents through LibreOffice', () => {
  let trove: TestTrove;
  let docx: string;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_LIBREOFFICE_PATH: office.program } });
    docx = await uploadFile(trove, docxOf(['Quarterly report', 'Everything went well.']), 'report.docx');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('converts a DOCX to PDF and to PNG, and names what it converts to', async () => {
    const info = (await (await rest(trove, `/convert/document/${docx}/`)).json()) as { format: { name: string; conversion_formats: { name: string }[] } };
    expect(info.format).toEqual({ name: 'docx', conversion_formats: [{ name: 'pdf' }, { name: 'jpg' }, { name: 'png' }] });

    const answer = await postConvert(trove, { paths: [`${docx}/document/-/format/pdf/`, `${docx}/document/-/format/png/-/page/1/`], store: '1' });
    expect(answer.body.problems).toEqual({});
    const [asPdf, asPng] = answer.body.result;
    expect((await waitForConversion(trove, asPdf!.token)).status).toBe('finished');
    expect((await waitForConversion(trove, asPng!.token)).status).toBe('finished');
    expect(await fileInfo(trove, asPdf!.uuid)).toMatchObject({ mime_type: 'application/pdf', original_filename: 'report.pdf' });
    expect((await download(trove, asPdf!.uuid)).subarray(0, 5).toString()).toBe('%PDF-');
    // LibreOffice's default page is A4 or Letter; either way a portrait page at 150 dpi.
    const page = await sharp(await download(trove, asPng!.uuid)).metadata();
    expect(page.format).toBe('png');
    expect(page.height).toBeGreaterThan(page.width ?? 0);
    // The converted PDF previews on the CDN like any PDF.
    expect((await fetch(`${trove.url}/${asPdf!.uuid}/-/preview/100x100/`)).status).toBe(200);
  }, 240_000);
});

describe('Office documents without LibreOffice', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_LIBREOFFICE_PATH: '/nonexistent/soffice' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('refuses the conversion, naming the packages to install', async () => {
    const docx = await uploadFile(trove, docxOf(['Nothing to see']), 'memo.docx');
    const path = `${docx}/document/-/format/pdf/`;
    const answer = await postConvert(trove, { paths: [path] });
    expect(answer.status).toBe(200);
    expect(answer.body.problems[path]).toMatch(/LibreOffice is not installed.*apt-get install libreoffice-writer-nogui/);
    const info = (await (await rest(trove, `/convert/document/${docx}/`)).json()) as { error: string | null; format: { name: string; conversion_formats: unknown[] } };
    expect(info.format).toEqual({ name: 'docx', conversion_formats: [] });
    expect(info.error).toMatch(/LibreOffice is not installed/);
  }, 60_000);
});
