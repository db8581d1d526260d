import { describe, expect, it } from 'vitest';
import { assertDeliverable, clamavAppData, isAddonName, scanStatusAfter, uploadScanRequestId } from '../../src/domain/addons.js';
import { toRestFile } from '../../src/domain/rest-file.js';
import { addonInitiator } from '../../src/domain/webhook.js';
import { AppError } from '../../src/errors.js';
import { effectsOfAppDataWrite } from '../../src/services/file-change-effects.js';
import { storedFile } from '../helpers/stored-file.js';

const bases = { cdnBase: 'https://cdn.example', apiBase: 'https://api.example' };

function refusal(run: () => void): AppError | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

describe('add-on rules', () => {
  it('knows exactly Uploadcare’s add-on names', () => {
    for (const name of ['uc_clamav_virus_scan', 'aws_rekognition_detect_labels', 'aws_rekognition_detect_moderation_labels', 'remove_bg']) expect(isAddonName(name)).toBe(true);
    for (const name of ['', 'UC_CLAMAV_VIRUS_SCAN', 'clamav', 'remove_bg ', '__proto__']) expect(isAddonName(name)).toBe(false);
  });

  it('writes ClamAV’s verdict in Uploadcare’s shape, keeping the first creation time', () => {
    const first = clamavAppData({ infected: true, signature: 'Win.Test.EICAR_HDB-1' }, '1.4.6', '2026-01-01T00:00:00.000Z', undefined);
    expect(first).toEqual({
      data: { infected: true, infected_with: 'Win.Test.EICAR_HDB-1' },
      version: '1.4.6',
      datetime_created: '2026-01-01T00:00:00.000Z',
      datetime_updated: '2026-01-01T00:00:00.000Z',
    });
    const later = clamavAppData({ infected: false, signature: null }, '1.4.7', '2026-02-01T00:00:00.000Z', first);
    expect(later).toEqual({ data: { infected: false, infected_with: '' }, version: '1.4.7', datetime_created: '2026-01-01T00:00:00.000Z', datetime_updated: '2026-02-01T00:00:00.000Z' });
    expect(scanStatusAfter({ infected: true })).toBe('infected');
    expect(scanStatusAfter({ infected: false })).toBe('clean');
  });

  it('delivers never-held and clean files, and refuses pending (423, Retry-After), failed (423) and infected (403) ones', () => {
    const file = storedFile({ projectId: 'p' });
    expect(refusal(() => assertDeliverable(file))).toBeNull();
    expect(refusal(() => assertDeliverable({ ...file, scanStatus: 'clean' }))).toBeNull();
    const pending = refusal(() => assertDeliverable({ ...file, scanStatus: 'pending' }));
    expect(pending).toMatchObject({ code: 'FILE_SCAN_PENDING', statusCode: 423, headers: { 'retry-after': '5' } });
    const failed = refusal(() => assertDeliverable({ ...file, scanStatus: 'failed' }));
    expect(failed).toMatchObject({ code: 'FILE_SCAN_PENDING', statusCode: 423 });
    expect(failed?.message).toContain('could not be completed');
    const infected = refusal(() =>
      assertDeliverable({ ...file, scanStatus: 'infected', appdata: { uc_clamav_virus_scan: clamavAppData({ infected: true, signature: 'Eicar' }, '1', 'x', undefined) } }),
    );
    expect(infected).toMatchObject({ code: 'FILE_INFECTED', statusCode: 403 });
    expect(infected?.message).toContain('(Eicar)');
  });

  it('derives one well-formed request id per digest', () => {
    const id = uploadScanRequestId('0123456789abcdef0123456789abcdef0123456789abcdef');
    expect(id).toBe('01234567-89ab-4def-a123-456789abcdef');
    expect(uploadScanRequestId('0123456789abcdef0123456789abcdef')).toBe(id);
  });
});

describe('files with add-on results', () => {
  it('show appdata only when asked ({} when none), is_ready while a scan is pending, and is_infected', () => {
    const plain = storedFile({ projectId: 'p' });
    expect('appdata' in toRestFile(plain, bases)).toBe(false);
    expect(toRestFile(plain, bases, { appdata: true })).toMatchObject({ appdata: {}, is_ready: true, is_infected: null });
    expect(toRestFile({ ...plain, scanStatus: 'pending' }, bases)).toMatchObject({ is_ready: false, is_infected: null });
    expect(toRestFile({ ...plain, scanStatus: 'failed' }, bases)).toMatchObject({ is_ready: true, is_infected: null });
    expect(toRestFile({ ...plain, scanStatus: 'clean' }, bases)).toMatchObject({ is_infected: false });
    const entry = clamavAppData({ infected: true, signature: 'Eicar' }, '1.4.6', '2026-01-01T00:00:00.000Z', undefined);
    expect(toRestFile({ ...plain, scanStatus: 'infected', appdata: { uc_clamav_virus_scan: entry } }, bases, { appdata: true })).toMatchObject({
      is_infected: true,
      appdata: { uc_clamav_virus_scan: entry },
    });
  });

  it('announce an add-on’s write as file.info_updated with the previous appdata, and a finding as file.infected, both from the add-on', () => {
    const before = storedFile({ projectId: 'p' });
    const entry = clamavAppData({ infected: true, signature: 'Eicar' }, '1.4.6', '2026-01-01T00:00:00.000Z', undefined);
    const after = { ...before, appdata: { uc_clamav_virus_scan: entry }, scanStatus: 'infected' as const };
    const initiator = addonInitiator('uc_clamav_virus_scan', 'r-1');
    const effects = effectsOfAppDataWrite(before, after, '2026-01-01T00:00:00.000Z', initiator, true);
    expect(effects.counters).toEqual([]);
    expect(effects.events).toEqual([
      { projectId: 'p', event: 'file.info_updated', fileUuid: before.uuid, previousValues: { appdata: {} }, initiator, createdAt: '2026-01-01T00:00:00.000Z' },
      { projectId: 'p', event: 'file.infected', fileUuid: before.uuid, previousValues: null, initiator, createdAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(effectsOfAppDataWrite(before, { ...after, scanStatus: 'clean' }, 'x', initiator, false).events.map((e) => e.event)).toEqual(['file.info_updated']);
  });
});
