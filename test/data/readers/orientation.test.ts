import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValueError } from '../../../src/core/errors.js';
import { orientationCodes, reorientVolume, resolveSliceAxis } from '../../../src/data/readers/orientation.js';
import { NiftiVolume } from '../../../src/data/readers/volume.js';
import { ROOT } from './helpers.js';

interface Case {
  kind: string;
  affine: number[][];
  codes: string;
}

// Written by test/fixtures/data/gen_orientation.py (nibabel 5.0 aff2axcodes on random affines).
const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'orientation.json'), 'utf8')) as { nibabel: string; cases: Case[] };

describe('orientationCodes equals nibabel aff2axcodes', () => {
  for (const kind of ['rotation', 'general', 'permutation', 'zero-column', 'parallel-columns']) {
    it(`on every ${kind} affine of the fixture (nibabel ${fixture.nibabel})`, () => {
      const cases = fixture.cases.filter((c) => c.kind === kind);
      expect(cases.length).toBeGreaterThanOrEqual(20);
      const wrong = cases
        .map((c) => ({ c, got: orientationCodes([...c.affine, [0, 0, 0, 1]]) }))
        .filter(({ c, got }) => got !== c.codes)
        .map(({ c, got }) => `${JSON.stringify(c.affine)}: ${got} vs nibabel ${c.codes}`);
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }

  it('matches documented nibabel examples', () => {
    // nibabel's aff2axcodes docstring: [[0,1,0,10],[-1,0,0,20],[0,0,1,30]] → ('P', 'R', 'S') with RAS labels.
    expect(orientationCodes([[0, 1, 0, 10], [-1, 0, 0, 20], [0, 0, 1, 30], [0, 0, 0, 1]])).toBe('PRS');
    expect(orientationCodes([[-2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])).toBe('LAS');
  });

  it('rank-deficient affines give "?" and a clear error where an orientation is needed', () => {
    const flat = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
    expect(orientationCodes(flat)).toBe('RA?');
    const vol = new NiftiVolume({ dims: [2, 2, 2], data: new Uint8Array(8), affine: flat });
    expect(() => reorientVolume(vol, 'RAS')).toThrow(ValueError);
    expect(() => reorientVolume(vol, 'RAS')).toThrow(/rank-deficient/);
    expect(() => resolveSliceAxis(flat, 'axial')).toThrow(/maps no voxel axis/);
  });
});
