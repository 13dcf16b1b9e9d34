// Error names must not come from constructor names, which minifiers rename (a bundled app printed
// `Pt: This dataset loader ...`). Every exported MedvaeError class declares its name as a string.
import { describe, expect, it } from 'vitest';
import * as medvae from '../../src/index.js';
import { UsageError } from '../../src/cli/errors.js';

const { MedvaeError } = medvae;

describe('MedvaeError names', () => {
  const classes = Object.entries({ ...medvae, UsageError }).filter(
    (e): e is [string, typeof MedvaeError] => typeof e[1] === 'function' && (e[1] === MedvaeError || e[1].prototype instanceof MedvaeError),
  );

  it('covers every exported error class', () => {
    expect(classes.length).toBeGreaterThanOrEqual(14);
  });

  it.each(classes.map(([n, c]) => [n, c] as const))('%s declares errorName and instances carry it', (exportName, cls) => {
    expect(Object.prototype.hasOwnProperty.call(cls, 'errorName')).toBe(true);
    expect(cls.errorName).toBe(exportName);
  });

  it('survive renaming of the class (as a minifier does)', () => {
    // A renamed copy behaves as a minified class: its constructor name differs from its export name.
    const renamed = { Pt: class extends medvae.ShapeError {} }.Pt;
    Object.defineProperty(renamed, 'name', { value: 'Pt' });
    expect(new medvae.ShapeError('x').name).toBe('ShapeError');
    expect(new medvae.ChecksumError('x').name).toBe('ChecksumError');
    // A user subclass without its own errorName keeps its own class name.
    expect(new renamed('x').name).toBe('Pt');
    class MyAppError extends MedvaeError {}
    expect(new MyAppError('y').name).toBe('MyAppError');
  });
});
