import { describe, expect, it } from 'vitest';
import { checkTagCount, normalizeTag, normalizeTags, patchTags, tagChange } from '../../src/domain/tags.js';
import { refusal } from '../helpers/refusal.js';

describe('tag rules', () => {
  it('lowercases, trims, drops empty tags and repeats, keeps the first-seen order', () => {
    expect(normalizeTags([' Cats ', 'dogs', 'CATS', '', '   ', '2026', 'dogs'], 'TAGS_INVALID')).toEqual(['cats', 'dogs', '2026']);
    expect(normalizeTags(['\tA-b_c.D\n'], 'TAGS_INVALID')).toEqual(['a-b_c.d']);
    expect(normalizeTags([], 'TAGS_INVALID')).toEqual([]);
    expect(normalizeTag('  MiXeD ')).toBe('mixed');
  });

  it('allows 100 characters and refuses 101, naming the tag and the rule', () => {
    expect(normalizeTags(['x'.repeat(100)], 'TAGS_INVALID')).toEqual(['x'.repeat(100)]);
    // Surrounding space does not count.
    expect(normalizeTags([` ${'x'.repeat(100)} `], 'TAGS_INVALID')).toHaveLength(1);
    const tooLong = refusal(() => normalizeTags(['ok', 'y'.repeat(101)], 'TAGS_INVALID'));
    expect(tooLong).toMatchObject({ code: 'TAGS_INVALID', status: 400 });
    expect(tooLong?.message).toContain('101 characters long; a tag has at most 100');
  });

  it('allows Latin letters, digits, "-", "_" and "." only', () => {
    for (const bad of ['good boy', 'café', 'a+b', 'me@home', 'a,b', 'a/b', 'ü', '日本', 'tab\tinside', '#x']) {
      const problem = refusal(() => normalizeTags(['fine', bad], 'TAGS_INVALID'));
      expect(problem?.status, bad).toBe(400);
      expect(problem?.message, bad).toContain(JSON.stringify(bad.toLowerCase()));
      expect(problem?.message, bad).toContain('only Latin letters, digits, "-", "_" and "."');
    }
  });

  it('answers with the code it is given', () => {
    expect(refusal(() => normalizeTags(['a b'], 'RequestParamRequiredError'))?.code).toBe('RequestParamRequiredError');
  });

  it('holds a file to 50 tags', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
    expect(() => checkTagCount(fifty, 'TAGS_INVALID')).not.toThrow();
    const problem = refusal(() => checkTagCount([...fifty, 'one-more'], 'TAGS_INVALID'));
    expect(problem).toMatchObject({ code: 'TAGS_INVALID', status: 400 });
    expect(problem?.message).toContain('at most 50 tags; this would leave it 51');
  });

  it('reports what a change added and deleted, sorted, and no change for the same set in another order', () => {
    expect(tagChange(['b', 'a'], ['c', 'a', 'aa'])).toEqual({ tags: ['c', 'a', 'aa'], added: ['aa', 'c'], deleted: ['b'], changed: true });
    expect(tagChange(['b', 'a'], ['a', 'b'])).toEqual({ tags: ['b', 'a'], added: [], deleted: [], changed: false });
    expect(tagChange([], [])).toEqual({ tags: [], added: [], deleted: [], changed: false });
  });

  it('deletes first, then adds, skipping tags already there', () => {
    expect(patchTags(['a', 'b', 'c'], ['b', 'd'], ['b', 'x'])).toEqual(['a', 'c', 'b', 'd']);
    expect(patchTags(['a'], ['a'], [])).toEqual(['a']);
    // Deletions are compared as normalised, so a tag stored under older rules can still go.
    expect(patchTags(['Good Boy', 'a'], [], [' good boy '])).toEqual(['a']);
  });
});
