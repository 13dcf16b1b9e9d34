import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Linear, Module, ModuleDict, ModuleList, ValueError } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

class Tower extends Module<tf.Tensor, tf.Tensor> {
  readonly blocks = this.registerModule('blocks', new ModuleList([new Linear(3, 4, { seed: 0 }), new Linear(4, 2, { seed: 1 })]));
  readonly heads = this.registerModule('heads', new ModuleDict({ a: new Linear(2, 1, { seed: 2 }), b: new Linear(2, 5, { seed: 3 }) }));
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.heads.get('b').forward([...this.blocks].reduce((h, m) => m.forward(h), x)));
  }
}

describe('ModuleList and ModuleDict', () => {
  it('register their children under PyTorch-style names and keep their types', () => {
    const t = new Tower();
    expect(Object.keys(t.stateDict())).toEqual([
      'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'heads.a.weight', 'heads.a.bias', 'heads.b.weight', 'heads.b.bias',
    ]);
    expect(t.blocks.length).toBe(2);
    expect(t.blocks.at(-1)).toBe(t.blocks.items()[1]);
    expect(t.heads.keys()).toEqual(['a', 'b']);
    const y = t.forward(tf.ones([2, 3]));
    expect(y.shape).toEqual([2, 5]);
    y.dispose();
    const before = tf.memory().numTensors;
    t.dispose();
    expect(tf.memory().numTensors).toBe(before - 8);
  });

  it('name bad indices and keys, and refuse to run', () => {
    const list = new ModuleList([new Linear(1, 1)]);
    expect(() => list.at(3)).toThrow(/index 3 is out of range for 1 modules/);
    const dict = new ModuleDict({ a: new Linear(1, 1) });
    expect(() => dict.get('z' as 'a')).toThrow(/no module 'z' \(it has a\)/);
    expect(() => list.forward()).toThrow(ValueError);
    expect(() => dict.forward()).toThrow(ValueError);
    list.dispose();
    dict.dispose();
  });
});
