/** Files, a group and a webhook every target aims at, created through the public APIs before a run. */
import sharp from 'sharp';
import { FUZZ_KEYS } from './keys.js';
import { mulberry32 } from './rng.js';

export interface FixtureFile {
  uuid: string;
  name: string;
  bytes: Buffer;
}

export interface Fixtures {
  url: string;
  publicKey: string;
  secretKey: string;
  sandbox: { publicKey: string; secretKey: string };
  signed: { publicKey: string; secretKey: string };
  png: FixtureFile;
  jpeg: FixtureFile;
  /** Streamed from storage (larger than the original cache's entry limit). */
  bin: FixtureFile;
  /** Served from the original cache. */
  tiny: FixtureFile;
  one: FixtureFile;
  /** Not stored: temporary caching headers. */
  temporary: FixtureFile;
  groupId: string;
  webhookId: number;
}

async function upload(url: string, publicKey: string, name: string, bytes: Buffer, store: '0' | '1'): Promise<FixtureFile> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', publicKey);
  form.set('UPLOADCARE_STORE', store);
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${url}/upload/base/`, { method: 'POST', body: form });
  if (!response.ok) throw new Error(`fixture upload of ${name} failed: ${response.status} ${await response.text()}`);
  const uuid = ((await response.json()) as Record<string, string>).file;
  if (!uuid) throw new Error(`fixture upload of ${name} answered no uuid`);
  return { uuid, name, bytes };
}

function restHeaders(publicKey: string, secretKey: string): Record<string, string> {
  return {
    accept: 'application/vnd.uploadcare-v0.7+json',
    authorization: `Uploadcare.Simple ${publicKey}:${secretKey}`,
    'content-type': 'application/json',
  };
}

export async function createFixtures(url: string): Promise<Fixtures> {
  const { publicKey, secretKey } = FUZZ_KEYS.main;
  const next = mulberry32(0xf1c5);
  const noise = Buffer.alloc(5000);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(next() * 256);
  const pixels = Buffer.alloc(48 * 32 * 4);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 7)) & 0xff;
  const png = await sharp(pixels, { raw: { width: 48, height: 32, channels: 4 } }).png().toBuffer();
  const jpeg = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer();

  const files = {
    png: await upload(url, publicKey, 'pixel art.png', png, '1'),
    jpeg: await upload(url, publicKey, 'photo.jpg', jpeg, '1'),
    bin: await upload(url, publicKey, 'data.bin', noise, '1'),
    tiny: await upload(url, publicKey, 'hello.txt', Buffer.from('hello, range!\n'), '1'),
    one: await upload(url, publicKey, 'one.txt', Buffer.from('1'), '1'),
    temporary: await upload(url, publicKey, 'temp.txt', Buffer.from('temporary file contents'), '0'),
  };

  const group = new URLSearchParams({ pub_key: publicKey });
  group.append('files[]', files.png.uuid);
  group.append('files[]', `${files.jpeg.uuid}/-/resize/20x/`);
  group.append('files[]', files.bin.uuid);
  const groupResponse = await fetch(`${url}/upload/group/`, { method: 'POST', body: group });
  if (!groupResponse.ok) throw new Error(`fixture group failed: ${groupResponse.status} ${await groupResponse.text()}`);
  const groupId = ((await groupResponse.json()) as { id: string }).id;

  const hookResponse = await fetch(`${url}/webhooks/`, {
    method: 'POST',
    headers: restHeaders(publicKey, secretKey),
    body: JSON.stringify({ target_url: 'http://127.0.0.1:9/hook', event: 'file.uploaded', is_active: true }),
  });
  if (!hookResponse.ok) throw new Error(`fixture webhook failed: ${hookResponse.status} ${await hookResponse.text()}`);
  const webhookId = ((await hookResponse.json()) as { id: number }).id;

  const metadata = await fetch(`${url}/files/${files.png.uuid}/metadata/kind/`, {
    method: 'PUT',
    headers: restHeaders(publicKey, secretKey),
    body: JSON.stringify('fixture'),
  });
  if (!metadata.ok) throw new Error(`fixture metadata failed: ${metadata.status} ${await metadata.text()}`);

  return { url, publicKey, secretKey, sandbox: FUZZ_KEYS.sandbox, signed: FUZZ_KEYS.signed, ...files, groupId, webhookId };
}
