import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../../core/module.js';
import { toGenerator, type SeedLike } from '../../core/random.js';
import { BatchNorm2d } from '../../layers/batchnorm.js';
import { Conv2d } from '../../layers/conv2d.js';
import { ConvTranspose2d } from '../../layers/conv-transpose2d.js';
import { GroupNorm } from '../../layers/groupnorm.js';
import { InstanceNorm2d } from '../../layers/instancenorm.js';
import { LayerNorm } from '../../layers/layernorm.js';
import { Linear } from '../../layers/linear.js';

function fill(v: tf.Variable | null, make: () => tf.Tensor): void {
  if (v === null) return;
  const t = make();
  v.assign(t);
  t.dispose();
}

/**
 * Re-initialises a module tree the way Radford et al. (2016) prescribe for DCGANs (and PyTorch's
 * DCGAN tutorial's `weights_init` does): every convolution, transposed convolution and linear
 * weight from N(0, 0.02²), every normalisation scale from N(1, 0.02²), and all their biases 0.
 * The default PyTorch initialisation scales with fan-in; this one does not, which the paper found
 * to keep both players' early updates comparable.
 *
 * @param module - the module whose layers are re-initialised in place (children included).
 * @param seed - seed or {@link Generator} the draws come from (the global generator when omitted).
 */
export function dcganInit(module: AnyModule, seed?: SeedLike): void {
  const gen = toGenerator(seed);
  for (const m of module.modules()) {
    if (m instanceof Conv2d || m instanceof ConvTranspose2d || m instanceof Linear) {
      fill(m.weight, () => gen.normal(m.weight.shape, 0, 0.02));
      fill(m.bias, () => tf.zerosLike(m.bias as tf.Variable));
    } else if (m instanceof BatchNorm2d || m instanceof InstanceNorm2d || m instanceof GroupNorm || m instanceof LayerNorm) {
      fill(m.weight, () => gen.normal((m.weight as tf.Variable).shape, 1, 0.02));
      fill(m.bias, () => tf.zerosLike(m.bias as tf.Variable));
    }
  }
}
