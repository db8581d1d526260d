import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';

const backends = await availableBackends();

describe.each(backends)('smoke (%s)', (backend) => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ backend });
  });
  afterAll(async () => {
    await trove?.close();
  });

  it('uploads a file and serves it back', async () => {
    const form = new FormData();
    form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
    form.set('file', new Blob(['hello trove']), 'hello.txt');
    const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const { file } = (await response.json()) as { file: string };
    const delivered = await fetch(`${trove.url}/${file}/`);
    expect(delivered.status).toBe(200);
    expect(await delivered.text()).toBe('hello trove');
    expect(await trove.countOriginals()).toBe(1);
  });
});
