import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { DEFAULT_TRANSFORM, sideLimits, transformIssues, type TransformState } from '../../web/dashboard/lib/transform-url.js';

const sides = (patch: Partial<TransformState>): TransformState => ({ ...DEFAULT_TRANSFORM, ...patch });

describe('the playground\'s side limit', () => {
  it('is the server\'s TROVE_MAX_OUTPUT_DIMENSION, not a number of its own', () => {
    const { maxOutputDimension } = loadConfig({}).transform;
    expect(sideLimits(maxOutputDimension)).toEqual({ min: 1, max: 8192 });
    expect(transformIssues(sides({ resizeWidth: 8192, resizeHeight: 8192, cropWidth: 8192, cropHeight: 8192 }), maxOutputDimension)).toEqual([]);
    expect(transformIssues(sides({ resizeWidth: 8193, cropWidth: 9000, cropHeight: 0 }), maxOutputDimension)).toEqual([
      { field: 'resizeWidth', message: 'Width must be from 1 to 8192.' },
      { field: 'cropWidth', message: 'Crop width must be from 1 to 8192.' },
      { field: 'cropHeight', message: 'Crop height must be from 1 to 8192.' },
    ]);
    const configured = loadConfig({ TROVE_MAX_OUTPUT_DIMENSION: '3000' }).transform.maxOutputDimension;
    expect(transformIssues(sides({ resizeHeight: 3001 }), configured)).toEqual([{ field: 'resizeHeight', message: 'Height must be from 1 to 3000.' }]);
  });

  it('leaves large sides to the server when the page was not told the limit', () => {
    expect(sideLimits(null)).toEqual({ min: 1, max: null });
    expect(transformIssues(sides({ resizeWidth: 100_000 }), null)).toEqual([]);
    expect(transformIssues(sides({ resizeWidth: 0 }), null)).toEqual([{ field: 'resizeWidth', message: 'Width must be at least 1.' }]);
  });
});
