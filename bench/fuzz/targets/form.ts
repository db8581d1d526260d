/**
 * Form bodies: the Upload API's multipart/form-data and urlencoded requests (base, group, from_url,
 * multipart start/complete/parts, info and status queries) and the REST API's JSON and form bodies.
 * Multipart bodies are built by hand so boundaries, part headers and line endings can be wrong.
 */
import { createHmac } from 'node:crypto';
import type { Fixtures } from '../fixtures.js';
import type { FuzzRequest } from '../http-client.js';
import { hugeNumber, mutateBytes, mutateList, mutateString, NASTY, percentEncode, randomBytes, randomString, uriEncode } from '../mutate.js';
import { chance, int, pick, weighted, type Rng } from '../rng.js';
import { anyJson, encodeQuery, fixtureUuid, fuzzValue, jsonText, mutateParams, randomUuid, REST_ACCEPT, uuidish, type FuzzCase, type Param, type Target } from './common.js';

interface TextField {
  name: string;
  value: string;
}
interface FilePart {
  name: string;
  file: Buffer;
  /** The whole Content-Disposition value, so every parameter can be odd. */
  disposition: string;
  contentType: string | null;
}
type Field = TextField | FilePart;

const isFile = (field: Field): field is FilePart => 'file' in field;

const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

function fileBytes(rng: Rng, fx: Fixtures): Buffer {
  return weighted<() => Buffer>(rng, [
    [3, () => randomBytes(rng, 2048)],
    [2, () => fx.png.bytes],
    [1, () => fx.jpeg.bytes],
    [2, () => mutateBytes(rng, pick(rng, [fx.png.bytes, fx.jpeg.bytes]))],
    [1, () => Buffer.concat([PNG_HEAD, randomBytes(rng, 200)])],
    [1, () => Buffer.from(pick(rng, ['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', '<html><body>hi</body></html>', '{"a":1}', '%PDF-1.4\n%âãÏÓ\n']))],
    [1, () => Buffer.alloc(0)],
    [0.3, () => randomBytes(rng, 200_000)],
  ])();
}

function filename(rng: Rng): string {
  return weighted<() => string>(rng, [
    [4, () => pick(rng, ['photo.jpg', 'a.png', 'résumé.pdf', 'no extension', '.hidden', 'x.tar.gz', '日本語.txt', 'a"b.txt', 'a\\b.txt', '../../etc/passwd', 'C:\\boot.ini', 'con', ''])],
    [3, () => randomString(rng, 40)],
    [1, () => 'a'.repeat(int(rng, 200, 5000))],
    [2, () => mutateString(rng, 'photo.jpg')],
  ])();
}

function quote(rng: Rng, text: string): string {
  return weighted<() => string>(rng, [
    [5, () => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`],
    [2, () => `"${text}"`],
    [2, () => text],
    [1, () => `'${text}'`],
  ])();
}

function disposition(rng: Rng, name: string, withFile: boolean): string {
  let value = `${chance(rng, 0.95) ? 'form-data' : pick(rng, ['attachment', 'inline', 'Form-Data', 'form-data ', ''])}; name=${quote(rng, name)}`;
  if (withFile) {
    const fn = filename(rng);
    value += weighted<() => string>(rng, [
      [6, () => `; filename=${quote(rng, fn)}`],
      [2, () => `; filename*=UTF-8''${percentEncode(rng, fn, true)}`],
      [1, () => `; filename=${quote(rng, 'fallback.bin')}; filename*=${pick(rng, ["UTF-8''", "utf-8'en'", "ISO-8859-1''", "''", "UTF-8'", ''])}${percentEncode(rng, fn, chance(rng, 0.5))}`],
      [1, () => `; filename*=UTF-8''${percentEncode(rng, String.fromCharCode(int(rng, 0, 0x1f)) + fn, true)}`],
      [1, () => '; filename=""'],
      [1, () => `; filename=${quote(rng, fn)}; filename=${quote(rng, filename(rng))}`],
    ])();
  }
  if (chance(rng, 0.1)) value += `; ${pick(rng, ['name="dup"', 'size=10', 'x', ';', 'creation-date="Wed, 12 Feb 1997 16:29:51 -0500"', randomString(rng, 20)])}`;
  return chance(rng, 0.85) ? value : mutateString(rng, value);
}

function filePart(rng: Rng, fx: Fixtures, name = 'file'): FilePart {
  return {
    name,
    file: fileBytes(rng, fx),
    disposition: disposition(rng, name, true),
    contentType: weighted<() => string | null>(rng, [
      [4, () => 'application/octet-stream'],
      [2, () => pick(rng, ['image/png', 'image/jpeg', 'text/plain; charset=utf-8', 'image/svg+xml', 'text/html'])],
      [2, () => null],
      [1, () => mutateString(rng, 'image/png')],
      [1, () => randomString(rng, 30).replace(/[\r\n]/g, '')],
    ])(),
  };
}

function publicKeyValue(rng: Rng, fx: Fixtures): string {
  return weighted<() => string>(rng, [
    [14, () => fx.publicKey],
    [2, () => fx.signed.publicKey],
    [1, () => 'wrongpublickey000000'],
    [1, () => mutateString(rng, fx.publicKey)],
    [1, () => ''],
    [1, () => fuzzValue(rng)],
  ])();
}

/** signature + expire: valid for the signed project, expired, damaged, or missing. */
function signatureFields(rng: Rng, fx: Fixtures): TextField[] {
  if (chance(rng, 0.6)) return [];
  const expire = weighted<() => string>(rng, [
    [4, () => String(Math.floor(Date.now() / 1000) + int(rng, 60, 3600))],
    [1, () => String(Math.floor(Date.now() / 1000) - int(rng, 1, 1e6))],
    [2, () => hugeNumber(rng)],
  ])();
  const valid = createHmac('sha256', fx.signed.secretKey).update(expire).digest('hex');
  const signature = weighted<() => string>(rng, [
    [4, () => valid],
    [1, () => valid.toUpperCase()],
    [2, () => mutateString(rng, valid)],
    [1, () => fuzzValue(rng)],
  ])();
  const fields: TextField[] = [];
  if (chance(rng, 0.9)) fields.push({ name: 'signature', value: signature });
  if (chance(rng, 0.9)) fields.push({ name: 'expire', value: expire });
  return fields;
}

function metadataFields(rng: Rng): TextField[] {
  return Array.from({ length: weighted(rng, [[6, 0], [3, 1], [1, int(rng, 2, 60)]] as const) }, () => ({
    name: `metadata[${weighted<() => string>(rng, [[4, () => pick(rng, ['subsystem', 'user_id', 'a-b_c.d', 'k'])], [2, () => randomString(rng, 10)], [1, () => 'k'.repeat(int(rng, 60, 300))], [1, () => '']])()}]`,
    value: weighted<() => string>(rng, [[4, () => randomString(rng, 20)], [1, () => 'v'.repeat(int(rng, 400, 2000))], [1, () => fuzzValue(rng)]])(),
  }));
}

function storeValue(rng: Rng): string {
  return weighted<() => string>(rng, [[6, () => pick(rng, ['0', '1', 'auto'])], [1, () => pick(rng, ['true', 'false', 'AUTO', '2', '', ' 1'])], [1, () => fuzzValue(rng)]])();
}

function mutateFields(rng: Rng, fields: Field[], fx: Fixtures): Field[] {
  if (chance(rng, 0.45)) return fields;
  return mutateList<Field>(
    rng,
    fields,
    () => (chance(rng, 0.3) ? filePart(rng, fx, pick(rng, ['file', 'file2', 'UPLOADCARE_PUB_KEY', randomString(rng, 8)])) : { name: pick(rng, ['UPLOADCARE_PUB_KEY', 'UPLOADCARE_STORE', 'pub_key', 'source_url', 'filename', 'size', 'part_size', 'uuid', 'files[]', 'files[0]', 'signature', 'expire', 'metadata[x]', randomString(rng, 10)]), value: fuzzValue(rng) }),
    (field) =>
      isFile(field)
        ? weighted<() => Field>(rng, [
            [2, () => ({ ...field, file: mutateBytes(rng, field.file) })],
            [2, () => ({ ...field, disposition: mutateString(rng, field.disposition) })],
            [1, () => ({ ...field, contentType: field.contentType === null ? 'text/plain' : mutateString(rng, field.contentType) })],
          ])()
        : weighted<() => Field>(rng, [
            [4, () => ({ ...field, value: mutateString(rng, field.value) })],
            [2, () => ({ ...field, value: fuzzValue(rng) })],
            [1, () => ({ ...field, name: mutateString(rng, field.name) })],
          ])(),
  );
}

interface MultipartBody {
  contentType: string;
  body: Buffer;
}

function boundaryString(rng: Rng): string {
  return weighted<() => string>(rng, [
    [10, () => `----trovefuzz${Math.floor(rng() * 1e12).toString(36)}`],
    [2, () => 'x'.repeat(int(rng, 1, 69))],
    [1, () => 'b'.repeat(int(rng, 70, 200))],
    [1, () => pick(rng, ['-', '--', 'a b', 'a"b', "'()+_,-./:=?", 'é', '\t', ';', 'boundary'])],
    [1, () => randomString(rng, 20).replace(/[\r\n]/g, '')],
  ])();
}

/** Serialises fields as multipart/form-data, sometimes breaking its framing on purpose. */
function multipart(rng: Rng, fields: readonly Field[]): MultipartBody {
  const boundary = boundaryString(rng);
  const game = weighted(rng, [
    [20, 'none'],
    [1, 'lf-only'],
    [1, 'no-closing'],
    [1, 'mismatch'],
    [1, 'preamble'],
    [1, 'boundary-in-body'],
    [1, 'no-part-headers'],
    [1, 'padding'],
    [1, 'truncate'],
    [1, 'bytes'],
  ] as const);
  const eol = game === 'lf-only' ? '\n' : '\r\n';
  const delimiter = game === 'mismatch' ? `${boundary}x` : boundary;
  const pieces: Buffer[] = [];
  if (game === 'preamble') pieces.push(Buffer.from(`preamble ${randomString(rng, 40)}${eol}`));
  for (const field of fields) {
    pieces.push(Buffer.from(`--${delimiter}${game === 'padding' ? pick(rng, [' ', '\t', '  \t', 'x']) : ''}${eol}`));
    if (game !== 'no-part-headers') {
      const headers = isFile(field)
        ? [`Content-Disposition: ${field.disposition}`, ...(field.contentType === null ? [] : [`Content-Type: ${field.contentType}`])]
        : [`Content-Disposition: ${chance(rng, 0.95) ? `form-data; name=${quote(rng, field.name)}` : disposition(rng, field.name, false)}`];
      if (chance(rng, 0.05)) headers.push(pick(rng, ['Content-Transfer-Encoding: base64', 'Content-Type: text/plain; charset=utf-16', 'X-Extra: 1', ` folded`, 'Content-Disposition: form-data; name="again"', `${randomString(rng, 10)}: ${randomString(rng, 10)}`]));
      pieces.push(Buffer.from(headers.join(eol) + eol));
    }
    pieces.push(Buffer.from(eol));
    pieces.push(isFile(field) ? field.file : Buffer.from(field.value, 'utf8'));
    if (game === 'boundary-in-body') pieces.push(Buffer.from(`${eol}--${boundary}${chance(rng, 0.5) ? '--' : ''}`));
    pieces.push(Buffer.from(eol));
  }
  if (game !== 'no-closing') pieces.push(Buffer.from(`--${delimiter}--${eol}`));
  if (chance(rng, 0.05)) pieces.push(Buffer.from(`epilogue ${randomString(rng, 20)}`));
  let body: Buffer = Buffer.concat(pieces);
  if (game === 'truncate') body = body.subarray(0, int(rng, 0, body.length));
  if (game === 'bytes') body = mutateBytes(rng, body);
  const param = weighted<() => string>(rng, [
    [10, () => `boundary=${boundary}`],
    [3, () => `boundary="${boundary}"`],
    [1, () => `boundary=${boundary}; charset=utf-8`],
    [1, () => `charset=utf-8; boundary=${boundary}`],
    [1, () => `BOUNDARY=${boundary}`],
    [1, () => `boundary = ${boundary}`],
    [1, () => `boundary=${boundary}; boundary=other`],
    [1, () => ''],
  ])();
  const contentType = chance(rng, 0.95) ? `multipart/form-data; ${param}` : mutateString(rng, `multipart/form-data; ${param}`);
  return { contentType, body };
}

function urlencoded(rng: Rng, fields: readonly Field[]): Buffer {
  const params: Param[] = fields.map((f) => ({ name: f.name, value: isFile(f) ? f.file.toString('latin1') : f.value }));
  return Buffer.from(encodeQuery(rng, params), 'utf8');
}

/** The request for a form: multipart, urlencoded, in the query string, or under the wrong Content-Type. */
function formRequest(rng: Rng, path: string, fields: Field[], preferMultipart: boolean): FuzzRequest {
  const headers: Array<[string, string]> = [];
  const style = weighted(rng, [
    [preferMultipart ? 12 : 4, 'multipart'],
    [preferMultipart ? 1 : 6, 'urlencoded'],
    [preferMultipart ? 0.5 : 2, 'query'],
    [1, 'other-type'],
    [0.5, 'no-type'],
  ] as const);
  let target = path;
  let body: Buffer = Buffer.alloc(0);
  if (style === 'multipart') {
    const form = multipart(rng, fields);
    headers.push(['content-type', form.contentType]);
    body = form.body;
  } else if (style === 'urlencoded') {
    headers.push(['content-type', pick(rng, ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'Application/X-WWW-Form-Urlencoded'])]);
    body = urlencoded(rng, fields);
  } else if (style === 'query') {
    target += `?${encodeQuery(rng, fields.map((f) => ({ name: f.name, value: isFile(f) ? 'file' : f.value })))}`;
  } else if (style === 'other-type') {
    headers.push(['content-type', pick(rng, ['application/json', 'text/plain', 'multipart/mixed; boundary=x', 'multipart/form-data', 'application/octet-stream', '*/*', randomString(rng, 20).replace(/[\r\n]/g, '')])]);
    body = chance(rng, 0.5) ? urlencoded(rng, fields) : randomBytes(rng, 500);
  } else {
    body = urlencoded(rng, fields);
  }
  if (chance(rng, 0.1)) headers.push(['x-uc-user-agent', 'UploadcareUploadClient/6.21.0 (JavaScript)']);
  if (chance(rng, 0.05)) headers.push(['expect', '100-continue']);
  if (chance(rng, 0.05)) headers.push(['origin', pick(rng, ['https://example.com', 'null', randomString(rng, 10).replace(/[\r\n]/g, '')])]);
  return { method: 'POST', target, headers, body, framing: chance(rng, 0.1) ? 'chunked' : 'length' };
}

function baseUpload(rng: Rng, fx: Fixtures): FuzzCase {
  const fields: Field[] = [];
  if (chance(rng, 0.95)) fields.push({ name: 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) });
  if (chance(rng, 0.6)) fields.push({ name: 'UPLOADCARE_STORE', value: storeValue(rng) });
  fields.push(...signatureFields(rng, fx), ...metadataFields(rng));
  if (chance(rng, 0.1)) fields.push({ name: 'tags', value: fuzzValue(rng) });
  const files = weighted(rng, [[1, 0], [12, 1], [2, 2], [0.5, int(rng, 3, 8)]] as const);
  for (let i = 0; i < files; i++) fields.push(filePart(rng, fx, i === 0 ? 'file' : pick(rng, [`file${i}`, 'file', randomString(rng, 8)])));
  // Fields after the files too: the service must not trust an order.
  if (chance(rng, 0.15)) fields.push({ name: 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) });
  const request = formRequest(rng, '/upload/base/', mutateFields(rng, fields, fx), true);
  if (chance(rng, 0.1)) request.target += `?${encodeQuery(rng, [{ name: 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) }])}`;
  return { request, kind: 'base' };
}

function groupFields(rng: Rng, fx: Fixtures): Field[] {
  const fields: Field[] = [{ name: chance(rng, 0.8) ? 'pub_key' : 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) }];
  const count = weighted(rng, [[8, int(rng, 1, 4)], [1, 0], [1, int(rng, 5, 1200)]] as const);
  for (let i = 0; i < count; i++) {
    const entry = weighted<() => string>(rng, [
      [6, () => fixtureUuid(rng, fx)],
      [2, () => `${fixtureUuid(rng, fx)}/-/${pick(rng, ['resize/20x/', 'preview/', 'crop/10x10/', 'nonsense/', 'resize/99999x/'])}`],
      [1, () => `${fx.url}/${fixtureUuid(rng, fx)}/`],
      [1, () => randomUuid(rng)],
      [1, () => uuidish(rng, fx)],
      [1, () => fuzzValue(rng)],
    ])();
    const name = weighted<() => string>(rng, [[6, () => 'files[]'], [2, () => `files[${i}]`], [1, () => 'files'], [1, () => `files[${hugeNumber(rng)}]`]])();
    fields.push({ name, value: entry });
  }
  return [...fields, ...signatureFields(rng, fx)];
}

function fromUrlFields(rng: Rng, fx: Fixtures): Field[] {
  // Only loopback, documentation or nonsense hosts; the server's fetcher refuses everything anyway.
  const source = weighted<() => string>(rng, [
    [4, () => `http://127.0.0.1:${int(rng, 1, 65535)}/${uriEncode(filename(rng))}`],
    [2, () => pick(rng, ['http://localhost/x.png', 'https://example.invalid/a.jpg', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'data:image/png;base64,iVBORw0K', 'javascript:alert(1)', 'http://[::1]/', 'http://0x7f000001/', 'http://169.254.169.254/latest/meta-data/', 'http://user:pass@127.0.0.1/', '//127.0.0.1/x', 'http:/127.0.0.1', ''])],
    [2, () => `http://127.0.0.1/${mutateString(rng, 'path/to/file.png?query=1#frag')}`],
    [1, () => fuzzValue(rng)],
  ])();
  const fields: Field[] = [{ name: 'pub_key', value: publicKeyValue(rng, fx) }, { name: 'source_url', value: source }];
  if (chance(rng, 0.4)) fields.push({ name: 'store', value: storeValue(rng) });
  if (chance(rng, 0.3)) fields.push({ name: 'filename', value: filename(rng) });
  if (chance(rng, 0.3)) fields.push({ name: pick(rng, ['check_URL_duplicates', 'save_URL_duplicates']), value: pick(rng, ['0', '1', 'true', fuzzValue(rng)]) });
  return [...fields, ...metadataFields(rng), ...signatureFields(rng, fx)];
}

function multipartStartFields(rng: Rng, fx: Fixtures): Field[] {
  const size = weighted<() => string>(rng, [[4, () => String(int(rng, 10 * 1024 ** 2, 200 * 1024 ** 2))], [1, () => String(int(rng, 0, 10 * 1024 ** 2))], [2, () => hugeNumber(rng)]])();
  const fields: Field[] = [
    { name: 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) },
    { name: 'filename', value: filename(rng) },
    { name: 'size', value: size },
    { name: 'content_type', value: weighted<() => string>(rng, [[4, () => pick(rng, ['image/png', 'application/octet-stream', 'video/mp4'])], [1, () => fuzzValue(rng)]])() },
  ];
  if (chance(rng, 0.5)) fields.push({ name: 'part_size', value: weighted<() => string>(rng, [[3, () => String(int(rng, 5 * 1024 ** 2, 600 * 1024 ** 2))], [2, () => hugeNumber(rng)]])() });
  if (chance(rng, 0.3)) fields.push({ name: 'UPLOADCARE_STORE', value: storeValue(rng) });
  return [...fields, ...metadataFields(rng), ...signatureFields(rng, fx)];
}

function uploadQuery(rng: Rng, fx: Fixtures): FuzzCase {
  const which = pick(rng, ['info', 'group-info', 'status'] as const);
  const params: Param[] =
    which === 'info'
      ? [{ name: 'pub_key', value: publicKeyValue(rng, fx) }, { name: 'file_id', value: uuidish(rng, fx) }]
      : which === 'group-info'
        ? [{ name: 'pub_key', value: publicKeyValue(rng, fx) }, { name: 'group_id', value: chance(rng, 0.6) ? fx.groupId : mutateString(rng, fx.groupId) }]
        : [{ name: 'token', value: chance(rng, 0.5) ? randomUuid(rng) : fuzzValue(rng) }];
  const path = { info: '/upload/info/', 'group-info': '/upload/group/info/', status: '/upload/from_url/status/' }[which];
  const query = encodeQuery(rng, mutateParams(rng, params, ['pub_key', 'file_id', 'group_id', 'token', 'UPLOADCARE_PUB_KEY']));
  return { request: { method: chance(rng, 0.9) ? 'GET' : 'HEAD', target: `${path}?${query}`, headers: [], body: Buffer.alloc(0), framing: 'none' }, kind: `upload-${which}` };
}

function partUpload(rng: Rng, fx: Fixtures): FuzzCase {
  const uuid = chance(rng, 0.7) ? randomUuid(rng) : uuidish(rng, fx);
  const index = pick(rng, ['0', '1', '99999', '-1', '1.5', 'x', hugeNumber(rng)]);
  const token = chance(rng, 0.5) ? randomString(rng, 40) : '';
  return {
    request: {
      method: 'PUT',
      target: `/upload/multipart/part/${uriEncode(uuid)}/${uriEncode(index)}/?token=${uriEncode(token)}`,
      headers: chance(rng, 0.5) ? [['content-type', 'application/octet-stream']] : [],
      body: randomBytes(rng, 4096),
      framing: chance(rng, 0.2) ? 'chunked' : 'length',
    },
    kind: 'multipart-part',
  };
}

type RestBodyRoute = { method: string; path: string; body: () => unknown; sandbox?: boolean };

/** REST requests whose body carries the input (JSON, form-encoded, or something else entirely). */
function restBody(rng: Rng, fx: Fixtures): FuzzCase {
  const uuids = () => Array.from({ length: weighted(rng, [[6, int(rng, 1, 5)], [1, 0], [1, int(rng, 90, 120)]] as const) }, () => uuidish(rng, fx));
  const hookBody = () => ({
    target_url: pick(rng, ['http://127.0.0.1:9/hook', 'https://example.invalid/hook', 'ftp://127.0.0.1/', '', fuzzValue(rng)]),
    event: pick(rng, ['file.uploaded', 'file.stored', 'file.deleted', 'file.info_updated', 'file.infected', fuzzValue(rng)]),
    is_active: pick<unknown>(rng, [true, false, 'true', 'false', 1, null, fuzzValue(rng)]),
    ...(chance(rng, 0.3) ? { signing_secret: pick(rng, ['secret', '', 'x'.repeat(int(rng, 30, 300)), fuzzValue(rng)]) } : {}),
  });
  const routes: RestBodyRoute[] = [
    { method: 'POST', path: '/webhooks/', body: hookBody },
    { method: 'PUT', path: `/webhooks/${chance(rng, 0.7) ? fx.webhookId : hugeNumber(rng)}/`, body: hookBody },
    { method: 'DELETE', path: '/webhooks/unsubscribe/', body: () => ({ target_url: pick(rng, ['http://127.0.0.1:9/none', fuzzValue(rng)]) }) },
    { method: 'PUT', path: '/project/', sandbox: true, body: () => ({ name: pick(rng, ['sandbox', '', fuzzValue(rng)]), autostore_enabled: anyJson(rng), signed_uploads: anyJson(rng), max_file_size: pick<unknown>(rng, [null, 1024, Number(hugeNumber(rng)), fuzzValue(rng)]), allowed_mime_types: pick<unknown>(rng, [null, ['image/*'], [fuzzValue(rng)], anyJson(rng)]) }) },
    { method: 'POST', path: '/project/secrets/', sandbox: true, body: () => anyJson(rng) },
    { method: 'PUT', path: '/files/storage/', body: uuids },
    { method: 'DELETE', path: '/files/storage/', body: () => [randomUuid(rng), ...(chance(rng, 0.5) ? [fuzzValue(rng)] : [])] },
    { method: 'POST', path: '/files/local_copy/', body: () => ({ source: pick(rng, [fixtureUuid(rng, fx), `${fx.url}/${fx.png.uuid}/-/resize/10x/`, `${fx.png.uuid}/-/${fuzzValue(rng)}/`, uuidish(rng, fx)]), store: anyJson(rng), metadata: anyJson(rng) }) },
    { method: 'PUT', path: `/files/${uuidish(rng, fx)}/metadata/${uriEncode(pick(rng, ['key', 'a.b-c_d', fuzzValue(rng)]))}/`, body: () => pick<unknown>(rng, ['value', fuzzValue(rng), anyJson(rng)]) },
    { method: 'PUT', path: `/files/${uuidish(rng, fx)}/tags/`, body: () => pick<unknown>(rng, [['a', 'b'], [fuzzValue(rng)], anyJson(rng)]) },
    { method: 'POST', path: `/files/${uuidish(rng, fx)}/derivatives/`, body: () => ({ operations: pick<unknown>(rng, [['-/resize/20x/'], ['-/' + fuzzValue(rng)], anyJson(rng)]) }) },
  ];
  const route = pick(rng, routes);
  const keys = route.sandbox ? fx.sandbox : { publicKey: fx.publicKey, secretKey: fx.secretKey };
  const value = route.body();
  const style = weighted(rng, [[8, 'json'], [2, 'form'], [1, 'multipart'], [1, 'other']] as const);
  let body: Buffer;
  let contentType: string;
  if (style === 'json') {
    body = Buffer.from(jsonText(rng, value), 'utf8');
    contentType = pick(rng, ['application/json', 'application/json; charset=utf-8', 'application/JSON']);
  } else if (style === 'form') {
    const entries: Array<[string, unknown]> = typeof value === 'object' && value !== null ? Object.entries(value) : [['value', value]];
    body = Buffer.from(encodeQuery(rng, mutateParams(rng, entries.map(([name, v]) => ({ name, value: typeof v === 'string' ? v : JSON.stringify(v) ?? '' })), ['target_url', 'event', 'is_active', 'source'])), 'utf8');
    contentType = 'application/x-www-form-urlencoded';
  } else if (style === 'multipart') {
    const form = multipart(rng, [{ name: 'target_url', value: 'http://127.0.0.1:9/hook' }, { name: 'event', value: 'file.uploaded' }]);
    body = form.body;
    contentType = form.contentType;
  } else {
    body = chance(rng, 0.5) ? randomBytes(rng, 300) : Buffer.from(jsonText(rng, value));
    contentType = pick(rng, ['text/plain', 'application/octet-stream', '', 'application/json-patch+json', randomString(rng, 15).replace(/[\r\n]/g, '')]);
  }
  const headers: Array<[string, string]> = [
    ['accept', chance(rng, 0.97) ? REST_ACCEPT : 'application/json'],
    ['authorization', chance(rng, 0.95) ? `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}` : mutateString(rng, `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}`).replace(/[\r\n]/g, '')],
  ];
  if (contentType !== '') headers.push(['content-type', contentType]);
  return { request: { method: route.method, target: route.path, headers, body, framing: chance(rng, 0.1) ? 'chunked' : 'length' }, kind: `rest-body-${style}` };
}

/** Bytes that only look like HTTP, and forms under content types nobody registered. */
function protocolNoise(rng: Rng, fx: Fixtures): FuzzCase {
  const valid = baseUpload(rng, fx).request;
  return weighted<() => FuzzCase>(rng, [
    [2, () => ({ request: { ...valid, raw: mutateBytes(rng, Buffer.concat([Buffer.from(`POST /upload/base/ HTTP/1.1\r\nhost: x\r\ncontent-type: ${valid.headers[0]?.[1] ?? ''}\r\ncontent-length: ${valid.body.length}\r\n\r\n`), valid.body])) }, kind: 'noise-bytes' })],
    [1, () => ({ request: { method: 'POST', target: '/upload/base/', headers: [['content-type', `multipart/form-data; boundary=${'-'.repeat(int(rng, 1, 3))}`]], body: randomBytes(rng, 3000), framing: 'length' }, kind: 'noise-body' })],
    [1, () => ({ request: { method: pick(rng, ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET']), target: pick(rng, ['/upload/base/', '/upload/group/', '/upload/from_url/', '/upload/multipart/start/', '/upload/multipart/complete/']), headers: [['content-type', pick(rng, ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])]], body: randomBytes(rng, 2000), framing: 'length' }, kind: 'noise-method' })],
    [1, () => ({ request: { ...valid, headers: [...valid.headers, [pick(rng, ['content-type', 'content-encoding', 'transfer-encoding', 'expect', 'content-length']), pick(rng, ['gzip', 'identity', 'chunked, gzip', '100-continue', 'application/x-www-form-urlencoded', '-1', String(valid.body.length)])]] }, kind: 'noise-headers' })],
    [1, () => ({ request: { ...valid, headers: [...valid.headers, ...Array.from({ length: int(rng, 1, 120) }, (_, i): [string, string] => [`x-${i}`, NASTY[i % NASTY.length]!.replace(/[\r\n]/g, '') || 'v'])] }, kind: 'noise-many-headers' })],
  ])();
}

export const formTarget: Target = {
  name: 'form',
  generate(rng: Rng, fx: Fixtures): FuzzCase {
    return weighted<() => FuzzCase>(rng, [
      [35, () => baseUpload(rng, fx)],
      [10, () => ({ request: formRequest(rng, '/upload/group/', mutateFields(rng, groupFields(rng, fx), fx), false), kind: 'group' })],
      [10, () => ({ request: formRequest(rng, '/upload/from_url/', mutateFields(rng, fromUrlFields(rng, fx), fx), false), kind: 'from-url' })],
      [8, () => ({ request: formRequest(rng, '/upload/multipart/start/', mutateFields(rng, multipartStartFields(rng, fx), fx), chance(rng, 0.5)), kind: 'multipart-start' })],
      [5, () => ({ request: formRequest(rng, '/upload/multipart/complete/', mutateFields(rng, [{ name: 'UPLOADCARE_PUB_KEY', value: publicKeyValue(rng, fx) }, { name: 'uuid', value: chance(rng, 0.5) ? randomUuid(rng) : uuidish(rng, fx) }], fx), chance(rng, 0.5)), kind: 'multipart-complete' })],
      [2, () => partUpload(rng, fx)],
      [5, () => uploadQuery(rng, fx)],
      [20, () => restBody(rng, fx)],
      [5, () => protocolNoise(rng, fx)],
    ])();
  },
};
