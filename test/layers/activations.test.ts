import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GELU, LeakyReLU, PReLU, ReLU, SiLU, Sigmoid, Softplus, Tanh, DTypeError, ShapeError, ValueError, type Module,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';
import { forwardWithGrads, loadFixture } from './grad-harness.js';

interface ActCase { y: number[]; dx: number[]; d_weight?: number[]; weight?: number[]; x?: number[]; g?: number[] }
interface Fixture {
  activations: { shape: number[]; x: number[]; g: number[]; cases: Record<string, ActCase> };
}
const fx = loadFixture<Fixture>('norm_act.json').activations;
const RTOL = 1e-5;
const ATOL = 1e-6;

beforeAll(() => setupBackend('cpu'));

function check(name: string, m: Module<tf.Tensor, tf.Tensor>, params: tf.Variable[] = []): void {
  const c = fx.cases[name];
  const x = c.x ?? fx.x;
  const g = c.g ?? fx.g;
  const shape = c.x ? [c.x.length] : fx.shape;
  const r = forwardWithGrads((t) => m.forward(t), x, shape, g, params);
  expectClose(r.y, c.y, RTOL, ATOL, `${name} y`);
  expectClose(r.dx, c.dx, RTOL, ATOL, `${name} dx`);
  if (params.length > 0) expectClose(r.dParams[0], c.d_weight as number[], RTOL, ATOL, `${name} dweight`);
}

describe('activations match PyTorch (output and gradients)', () => {
  it('ReLU, LeakyReLU (default and 0.2), SiLU, Tanh, Sigmoid', () => {
    check('relu', new ReLU());
    check('leakyrelu', new LeakyReLU());
    check('leakyrelu02', new LeakyReLU({ negativeSlope: 0.2 }));
    check('silu', new SiLU());
    check('tanh', new Tanh());
    check('sigmoid', new Sigmoid());
  });

  it('GELU exact (erf) and tanh approximation', () => {
    check('gelu', new GELU());
    check('gelu_tanh', new GELU({ approximate: 'tanh' }));
  });

  it('Softplus, including inputs above the threshold and beta = 2', () => {
    check('softplus', new Softplus());
    check('softplus_wide', new Softplus());
    check('softplus_beta2', new Softplus({ beta: 2, threshold: 5 }));
  });

  it('PReLU with a shared slope and with one slope per channel (last axis)', () => {
    const shared = new PReLU();
    expect(Object.keys(shared.stateDict())).toEqual(['weight']);
    check('prelu', shared, [shared.weight]);
    const perChannel = new PReLU({ numParameters: 4 });
    perChannel.weight.assign(tf.tensor1d(fx.cases.prelu_c.weight as number[]));
    check('prelu_c', perChannel, [perChannel.weight]);
    shared.dispose();
    perChannel.dispose();
  });
});

describe('activations: safety', () => {
  it('Softplus gradients stay finite far above the threshold', () => {
    const sp = new Softplus({ beta: 3, threshold: 10 });
    const x = tf.tensor1d([-200, 0, 50, 500]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(sp.forward(t)))(x);
    expect(Array.from(dx.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, dx]);
  });

  it('do not leak', async () => {
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 7);
    const mods: Module<tf.Tensor, tf.Tensor>[] = [
      new ReLU(), new LeakyReLU(), new PReLU({ numParameters: 4 }), new SiLU(), new GELU(), new GELU({ approximate: 'tanh' }),
      new Tanh(), new Sigmoid(), new Softplus({ beta: 2 }),
    ];
    await expectNoLeak(() => {
      for (const m of mods) tf.dispose(m.forward(x));
    });
    mods.forEach((m) => m.dispose());
    x.dispose();
  });

  it('reject bad options, int inputs and mismatched PReLU channels', () => {
    expect(() => new GELU({ approximate: 'fast' as 'tanh' })).toThrow(ValueError);
    expect(() => new Softplus({ beta: 0 })).toThrow(ValueError);
    expect(() => new PReLU({ numParameters: 0 })).toThrow(ValueError);
    const ints = tf.tensor1d([1, 2], 'int32');
    expect(() => new ReLU().forward(ints)).toThrow(DTypeError);
    const pr = new PReLU({ numParameters: 3 });
    const x = tf.zeros([2, 2, 2, 4]);
    expect(() => pr.forward(x)).toThrow(ShapeError);
    expect(() => pr.forward(x)).toThrow(/3 channels on the last axis/);
    tf.dispose([ints, x]);
    pr.dispose();
  });
});
