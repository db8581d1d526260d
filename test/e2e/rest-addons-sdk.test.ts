import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AddonExecutionStatus,
  AddonName,
  addonExecutionStatus,
  addonJobPoller,
  createWebhook,
  executeAddon,
  fileInfo,
  listOfFiles,
  searchFiles,
  UploadcareAuthSchema,
  type UserSettings,
  type WebhookEvent,
} from '@uploadcare/rest-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { describeWhenClamd, EICAR, EICAR_SIGNATURE, startClamd, type TestClamd } from '../helpers/clamd.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile, UUID_RE } from '../helpers/upload-http.js';

const backends = await availableBackends();

interface Hook {
  initiator: { type: string; detail: { request_id: string | null; addon_name: string | null } };
  hook: { event: string };
  data: { uuid: string; datetime_removed: string | null; appdata?: Record<string, { data: { infected: boolean; infected_with: string } }> };
  previous_values?: { appdata?: Record<string, unknown> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Uploadcare's REST SDK, unchanged, running the ClamAV add-on on Trove, which scans on a real clamd
 * (Debian's, with a one-line EICAR signature database made by sigtool).
 */
describeWhenClamd('add-on SDK')('@uploadcare/rest-client add-ons against Trove with clamd', () => {
  let clamd: TestClamd;
  beforeAll(async () => {
    clamd = await startClamd();
  }, 60_000);
  afterAll(async () => clamd?.stop());

  describe.each(backends)('%s', (backend) => {
    let trove: TestTrove;
    let settings: UserSettings;
    let receiver: Server;
    const hooks: Hook[] = [];

    beforeAll(async () => {
      receiver = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          hooks.push(JSON.parse(body) as Hook);
          response.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      trove = await startTrove({ backend, env: { TROVE_CLAMD_URL: clamd.tcpUrl } });
      settings = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
      for (const event of ['file.infected', 'file.deleted', 'file.info_updated']) {
        // The SDK's WebhookEvent (6.21) names only file.uploaded; the API takes every event.
        await createWebhook({ targetUrl: target, event: event as WebhookEvent, isActive: true }, settings);
      }
    }, 60_000);

    afterAll(async () => {
      await trove?.close();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    const poll = (requestId: string) =>
      until('the add-on request to end', async () => {
        const { status } = await addonExecutionStatus({ addonName: AddonName.UC_CLAMAV_VIRUS_SCAN, requestId }, settings);
        return status === AddonExecutionStatus.IN_PROGRESS ? null : status;
      });

    it('answers {} for appdata until an add-on runs, and nothing without include', async () => {
      const uuid = await uploadFile(trove, Buffer.from('plain text'), 'plain.txt', { UPLOADCARE_STORE: '1' });
      expect((await fileInfo({ uuid, include: 'appdata' }, settings)).appdata).toEqual({});
      expect('appdata' in (await fileInfo({ uuid }, settings))).toBe(false);
    });

    it('scans a clean file: executeAddon, addonExecutionStatus until done, the verdict in appdata', async () => {
      const uuid = await uploadFile(trove, Buffer.from('nothing wrong with me\n'.repeat(100)), 'clean.txt', { UPLOADCARE_STORE: '1' });
      const { requestId } = await executeAddon({ addonName: AddonName.UC_CLAMAV_VIRUS_SCAN, target: uuid }, settings);
      expect(requestId).toMatch(UUID_RE);
      expect(await poll(requestId)).toBe(AddonExecutionStatus.DONE);
      const info = await fileInfo({ uuid, include: 'appdata' }, settings);
      const scan = info.appdata?.uc_clamav_virus_scan;
      expect(scan?.data).toEqual({ infected: false, infected_with: '' });
      expect(scan?.version).toMatch(/^\d+\.\d+/);
      expect(Date.parse(scan!.datetime_created)).not.toBeNaN();
      expect(scan?.datetime_updated).toBe(scan?.datetime_created);
      expect((info as unknown as { isInfected: boolean | null }).isInfected).toBe(false);
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(200);
      // Search carries the same application data when asked.
      const searched = await searchFiles({ exact: { uuid: [uuid] }, include: 'appdata' }, settings);
      expect(searched.results.map((file) => file.appdata?.uc_clamav_virus_scan?.data)).toEqual([{ infected: false, infected_with: '' }]);

      // Scanned again: the entry keeps its creation time and moves its update time.
      const again = await executeAddon({ addonName: AddonName.UC_CLAMAV_VIRUS_SCAN, target: uuid, params: { purge_infected: true } }, settings);
      expect(again.requestId).not.toBe(requestId);
      expect(await poll(again.requestId)).toBe(AddonExecutionStatus.DONE);
      const rescanned = (await fileInfo({ uuid, include: 'appdata' }, settings)).appdata?.uc_clamav_virus_scan;
      expect(rescanned?.datetime_created).toBe(scan?.datetime_created);
      expect(rescanned!.datetime_updated >= scan!.datetime_updated).toBe(true);
      // The clean file was not purged.
      expect((await fileInfo({ uuid }, settings)).datetimeRemoved).toBeNull();
    });

    it('finds EICAR through the SDK’s addonJobPoller, keeps the file, stops delivering it, and sends file.infected', async () => {
      const uuid = await uploadFile(trove, EICAR, 'eicar.com', { UPLOADCARE_STORE: '1' });
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(200);
      let requestId = '';
      const outcome = await addonJobPoller(
        { addonName: AddonName.UC_CLAMAV_VIRUS_SCAN, target: uuid, onRun: (run) => (requestId = run.requestId), pollOptions: { interval: 100, timeout: 20_000 } },
        settings,
      );
      expect(outcome.error).toBe(false);
      expect(outcome.result?.data.infected).toBe(true);
      expect(outcome.result?.data.infected_with).toContain(EICAR_SIGNATURE);

      const info = await fileInfo({ uuid, include: 'appdata' }, settings);
      expect(info.datetimeRemoved).toBeNull();
      expect((info as unknown as { isInfected: boolean | null }).isInfected).toBe(true);
      const denied = await fetch(`${trove.url}/${uuid}/`);
      expect(denied.status).toBe(403);
      const body = (await denied.json()) as { code: string; message: string };
      expect(body.code).toBe('FILE_INFECTED');
      expect(body.message).toContain(EICAR_SIGNATURE);

      // The SDK's listOfFiles drops `include` (6.21), so the listing is asked for directly.
      const listing = await fetch(`${trove.url}/files/?include=appdata&limit=1000`, {
        headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
      });
      const listed = (await listing.json()) as { results: Array<{ uuid: string; appdata?: Hook['data']['appdata'] }> };
      expect(listed.results.find((file) => file.uuid === uuid)?.appdata?.uc_clamav_virus_scan?.data.infected).toBe(true);
      expect(listed.results.every((file) => file.appdata !== undefined)).toBe(true);
      expect((await listOfFiles({ limit: 100 }, settings)).results.find((file) => file.uuid === uuid)?.isImage).toBe(false);

      const infected = await until('the file.infected webhook', async () => hooks.find((h) => h.hook.event === 'file.infected' && h.data.uuid === uuid));
      expect(infected.initiator).toEqual({ type: 'addon', detail: { request_id: requestId, addon_name: 'uc_clamav_virus_scan', source_file_uuid: null } });
      expect(infected.data.appdata?.uc_clamav_virus_scan?.data.infected).toBe(true);
      const updated = await until('the file.info_updated webhook', async () => hooks.find((h) => h.hook.event === 'file.info_updated' && h.data.uuid === uuid));
      expect(updated.previous_values).toEqual({ appdata: {} });
    });

    it('purges an infected file with purge_infected: removed, file.deleted and file.infected delivered, no longer served', async () => {
      const uuid = await uploadFile(trove, EICAR, 'eicar.txt', { UPLOADCARE_STORE: '1' });
      const { requestId } = await executeAddon({ addonName: AddonName.UC_CLAMAV_VIRUS_SCAN, target: uuid, params: { purge_infected: true } }, settings);
      expect(await poll(requestId)).toBe(AddonExecutionStatus.DONE);
      const info = await fileInfo({ uuid, include: 'appdata' }, settings);
      expect(info.datetimeRemoved).not.toBeNull();
      expect(info.appdata?.uc_clamav_virus_scan?.data.infected).toBe(true);
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(404);
      await until('file.infected and file.deleted webhooks', async () =>
        hooks.some((h) => h.hook.event === 'file.infected' && h.data.uuid === uuid) && hooks.some((h) => h.hook.event === 'file.deleted' && h.data.uuid === uuid),
      );
    });
  });
});
