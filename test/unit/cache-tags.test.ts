import { describe, expect, it } from 'vitest';
import { cacheTagHeaders, deliveryTags, ORIGINAL_VARIANT, purgeOfFiles, purgeOfGroup, splitPurge } from '../../src/domain/cache-tags.js';

const UUID = '3addab78-6368-4c55-ac08-22412b6a2a4c';

describe('delivery cache tags', () => {
  it('names the project, the file and the variant, in that order', () => {
    expect(deliveryTags({ projectId: 'proj1', uuid: UUID, variant: 'abc-webp' })).toEqual(['p:proj1', `f:${UUID}`, `v:${UUID}/abc-webp`]);
    expect(deliveryTags({ projectId: 'proj1', uuid: UUID, variant: ORIGINAL_VARIANT })).toEqual(['p:proj1', `f:${UUID}`, `v:${UUID}/original`]);
  });

  it('adds the group of a group URL after the member file', () => {
    const groupId = 'e4f4a3c8-4f5b-4b1e-9f4c-1b2f3d4e5f60~2';
    expect(deliveryTags({ projectId: 'p', uuid: UUID, variant: 'original', groupId })).toEqual(['p:p', `f:${UUID}`, `g:${groupId}`, `v:${UUID}/original`]);
  });

  it('leaves the project out when a hit cannot name it (a derivative stored before envelopes carried it)', () => {
    expect(deliveryTags({ projectId: null, uuid: UUID, variant: 'abc-auto-avif' })).toEqual([`f:${UUID}`, `v:${UUID}/abc-auto-avif`]);
  });

  it('writes Surrogate-Key space-separated and Cache-Tag comma-separated', () => {
    expect(cacheTagHeaders(['p:a', 'f:b', 'v:b/original'])).toEqual({ 'surrogate-key': 'p:a f:b v:b/original', 'cache-tag': 'p:a,f:b,v:b/original' });
  });
});

describe('purges', () => {
  it('purges a file by its tag and, for path-based caches, by a wildcard under the delivery prefix', () => {
    expect(purgeOfFiles([UUID, UUID], '/cdn')).toEqual({ tags: [`f:${UUID}`], paths: [`/cdn/${UUID}*`] });
    expect(purgeOfFiles([UUID], '')).toEqual({ tags: [`f:${UUID}`], paths: [`/${UUID}*`] });
    expect(purgeOfGroup('g~2', '')).toEqual({ tags: ['g:g~2'], paths: ['/g~2*'] });
  });

  it('splits to a provider’s per-request limits, keeping order and losing nothing', () => {
    const tags = Array.from({ length: 250 }, (_, i) => `f:${i}`);
    const paths = Array.from({ length: 250 }, (_, i) => `/${i}*`);
    const cloudflare = splitPurge({ tags, paths }, { maxTags: 100, maxPaths: 0 });
    expect(cloudflare.map((part) => part.tags.length)).toEqual([100, 100, 50]);
    expect(cloudflare.every((part) => part.paths.length === 0)).toBe(true);
    expect(cloudflare.flatMap((part) => part.tags)).toEqual(tags);
    const fastly = splitPurge({ tags, paths }, { maxTags: 256, maxPaths: 0 });
    expect(fastly.map((part) => part.tags.length)).toEqual([250]);
    const cloudfront = splitPurge({ tags, paths }, { maxTags: 0, maxPaths: 15 });
    expect(cloudfront).toHaveLength(17);
    expect(cloudfront.flatMap((part) => part.paths)).toEqual(paths);
    expect(cloudfront.every((part) => part.tags.length === 0)).toBe(true);
    const hook = splitPurge({ tags, paths }, { maxTags: Infinity, maxPaths: Infinity });
    expect(hook).toEqual([{ tags, paths }]);
  });

  it('gives nothing to send for a provider that takes none of what the purge holds', () => {
    expect(splitPurge({ tags: [], paths: ['/x*'] }, { maxTags: 100, maxPaths: 0 })).toEqual([]);
    expect(splitPurge({ tags: ['f:x'], paths: [] }, { maxTags: 0, maxPaths: 15 })).toEqual([]);
  });
});
