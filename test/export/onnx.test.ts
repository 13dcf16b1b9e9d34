// ONNX export checked by running the files in onnxruntime-node (its CPU execution provider) and
// comparing with medvae's own forward pass; where Debian's python3-onnx is installed, the files
// also pass the ONNX project's checker.
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool3d,
  BatchNorm2d,
  BatchNorm3d,
  Conv2d,
  Conv3d,
  ConvTranspose3d,
  DDPM,
  DiffusionUNet,
  GELU,
  Generator,
  InstanceNorm3d,
  LayerNorm,
  MaxPool3d,
  OnnxExportError,
  PReLU,
  ReLU,
  Sequential,
  Softplus,
  UNet,
  UNetSegmenter,
  Upsample,
  type UNetSegmenterOptions,
  exportOnnx,
  saveOnnx,
  type AnyModule,
  type OnnxExportOptions,
} from '../../src/index.js';
import { expectClose, expectNoLeak, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

/**
 * Fills every parameter and buffer with seeded random values (variances positive), so that
 * BatchNorm's running statistics, affine norms and biases all matter in the comparison.
 */
function randomize(model: AnyModule, seed: number): void {
  const gen = new Generator(seed);
  for (const [name, v] of [...model.namedParameters(), ...model.namedBuffers()]) {
    if (v.dtype !== 'float32') continue;
    const r = gen.normal(v.shape);
    const value = tf.tidy(() => (/running_var$/.test(name) ? tf.add(tf.abs(r), 0.5) : tf.mul(r, /weight$/.test(name) && v.rank > 1 ? 0.3 : 0.5)));
    v.assign(value);
    tf.dispose([r, value]);
  }
}

const nchw = (x: tf.Tensor): tf.Tensor => tf.transpose(x, [0, 3, 1, 2]);

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function floatTensor(t: tf.Tensor): ort.Tensor {
  return new ort.Tensor('float32', t.dataSync() as Float32Array, t.shape);
}

async function compareImageModel(model: UNetSegmenter | UNet, x: tf.Tensor, options: OnnxExportOptions = {}): Promise<void> {
  model.eval();
  const bytes = exportOnnx(model, options);
  const layout = options.layout ?? 'nchw';
  const expected = tf.tidy(() => {
    let y = model.forward(x);
    if (options.output === 'probabilities' && model instanceof UNetSegmenter) y = model.numClasses === 1 ? tf.sigmoid(y) : tf.softmax(y, -1);
    return layout === 'nchw' ? nchw(y) : y;
  });
  const input = layout === 'nchw' ? nchw(x) : tf.clone(x);
  const outName = options.output === 'probabilities' ? 'probabilities' : 'logits';
  const out = (await run(bytes, { image: floatTensor(input) }))[outName];
  expect(out.dims).toEqual(expected.shape);
  expectClose(out.data as Float32Array, expected.dataSync(), 1e-4, 1e-4, `${model.constructor.name} ${JSON.stringify(options)}`);
  tf.dispose([expected, input]);
}

describe('exportOnnx: UNetSegmenter / UNet in onnxruntime-node', () => {
  const cases: { name: string; options: ConstructorParameters<typeof UNetSegmenter>[0]; exportOptions?: OnnxExportOptions; size: [number, number] }[] = [
    { name: 'batch norm, relu, transposed conv (the default)', options: { inChannels: 1, numClasses: 2, channels: [8, 16, 32] }, size: [16, 24] },
    { name: 'group norm, silu, nearest upsampling, residual', options: { inChannels: 2, numClasses: 3, channels: [8, 16], norm: 'group', groups: 4, activation: 'silu', upsample: 'nearest', residual: true }, size: [8, 12] },
    { name: 'instance norm, leaky relu, bilinear upsampling, dropout', options: { inChannels: 1, numClasses: 1, channels: [4, 8, 8], norm: 'instance', activation: 'leakyrelu', upsample: 'bilinear', dropout: 0.3 }, size: [12, 8] },
    { name: 'no norm, gelu, probabilities (softmax)', options: { inChannels: 3, numClasses: 4, channels: [4, 8], norm: 'none', activation: 'gelu' }, exportOptions: { output: 'probabilities' }, size: [6, 10] },
    { name: 'binary probabilities (sigmoid), NHWC input and output', options: { inChannels: 1, numClasses: 1, channels: [4, 8] }, exportOptions: { output: 'probabilities', layout: 'nhwc' }, size: [8, 8] },
  ];
  for (const c of cases) {
    it(`matches medvae within 1e-4: ${c.name}`, async () => {
      const model = new UNetSegmenter({ ...c.options, seed: 3 });
      randomize(model, 11);
      const x = new Generator(5).normal([2, ...c.size, c.options.inChannels]);
      await compareImageModel(model, x, c.exportOptions);
      x.dispose();
      model.dispose();
    });
  }

  it('one file serves other image sizes and batch sizes (free dimensions)', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 1 });
    randomize(model, 2);
    model.eval();
    const bytes = exportOnnx(model);
    const session = await ort.InferenceSession.create(bytes);
    for (const [n, h, w] of [[1, 8, 8], [3, 20, 6]]) {
      const x = new Generator(h).normal([n, h, w, 1]);
      const expected = tf.tidy(() => nchw(model.forward(x)));
      const { logits } = await session.run({ image: floatTensor(tf.tidy(() => nchw(x))) });
      expect(logits.dims).toEqual([n, 2, h, w]);
      expectClose(logits.data as Float32Array, expected.dataSync(), 1e-4, 1e-4, `${n}x${h}x${w}`);
      tf.dispose([x, expected]);
    }
    await session.release();
    model.dispose();
  });

  it('exports a bare UNet, and names initializers after the parameters', async () => {
    const net = new UNet({ inChannels: 1, outChannels: 2, channels: [4, 8], seed: 0 });
    randomize(net, 4);
    const x = new Generator(9).normal([1, 8, 8, 1]);
    await compareImageModel(net, x);
    const text = new TextDecoder('latin1').decode(exportOnnx(net));
    expect(text).toContain('encoders.0.body.0.conv.weight');
    expect(text).toContain('encoders.0.body.0.norm.running_var');
    x.dispose();
    net.dispose();
  });

  it('exports in eval form whatever the training flag, and leaks no tensor', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], dropout: 0.5, seed: 1 });
    randomize(model, 3);
    model.train();
    const bytes = exportOnnx(model);
    expect(model.training).toBe(true);
    model.eval();
    expect(exportOnnx(model)).toEqual(bytes);
    await expectNoLeak(() => exportOnnx(model));
    model.dispose();
  });
});

describe('exportOnnx: other modules', () => {
  it('exports a Sequential of layers given inChannels', async () => {
    const net = new Sequential(
      new Conv2d(2, 6, 3, { stride: 2, padding: 'valid', dilation: 1 }),
      new BatchNorm2d(6),
      new PReLU({ numParameters: 6 }),
      new Conv2d(6, 4, 3, { padding: 'same', dilation: 2 }),
      new Softplus({ beta: 2, threshold: 1 }),
      new Upsample({ size: [9, 5], mode: 'bilinear', alignCorners: true }),
      new GELU({ approximate: 'tanh' }),
      new Upsample({ scaleFactor: [3, 2], mode: 'nearest' }),
      new ReLU(),
    );
    randomize(net, 8);
    net.eval();
    const x = new Generator(1).normal([2, 11, 9, 2]);
    const expected = tf.tidy(() => nchw(net.forward(x)));
    const { output } = await run(exportOnnx(net, { inChannels: 2 }), { input: floatTensor(tf.tidy(() => nchw(x))) });
    expect(output.dims).toEqual(expected.shape);
    expectClose(output.data as Float32Array, expected.dataSync(), 1e-4, 1e-4, 'Sequential');
    tf.dispose([x, expected]);
    net.dispose();
  });

  it('exports volumetric layers (spatialDims: 3, NCDHW)', async () => {
    const net = new Sequential(
      new Conv3d(2, 4, 3, { padding: 1 }),
      new BatchNorm3d(4),
      new ReLU(),
      new MaxPool3d(2),
      new Conv3d(4, 4, [1, 3, 3], { padding: 'same', dilation: [1, 2, 1] }),
      new InstanceNorm3d(4, { affine: true }),
      new ConvTranspose3d(4, 3, 2, { stride: 2 }),
      new Upsample({ scaleFactor: [1, 2, 1.5], mode: 'trilinear' }),
      new AvgPool3d(3, { stride: 1, padding: 1 }),
      new Upsample({ size: [6, 7, 5], mode: 'nearest' }),
    );
    randomize(net, 12);
    net.eval();
    const x = new Generator(2).normal([2, 4, 6, 8, 2]);
    const expected = tf.tidy(() => tf.transpose(net.forward(x), [0, 4, 1, 2, 3]));
    for (const layout of ['nchw', 'nhwc'] as const) {
      const input = tf.tidy(() => (layout === 'nchw' ? tf.transpose(x, [0, 4, 1, 2, 3]) : tf.clone(x)));
      const { output } = await run(exportOnnx(net, { inChannels: 2, spatialDims: 3, layout }), { input: floatTensor(input) });
      const want = layout === 'nchw' ? tf.clone(expected) : tf.transpose(expected, [0, 2, 3, 4, 1]);
      expect(output.dims).toEqual(want.shape);
      expectClose(output.data as Float32Array, want.dataSync(), 1e-4, 1e-4, `volumetric Sequential ${layout}`);
      tf.dispose([input, want]);
    }
    tf.dispose([x, expected]);
    net.dispose();
  });

  it('exports a volumetric UNetSegmenter (spatialDims: 3) when the network has that option', async () => {
    const options = { inChannels: 1, numClasses: 3, channels: [4, 8], norm: 'batch', spatialDims: 3, seed: 0 } as UNetSegmenterOptions;
    const model = new UNetSegmenter(options);
    if (!('spatialDims' in model.net.config) || model.net.config.spatialDims !== 3) {
      console.log('skipping the volumetric UNetSegmenter export: this UNet has no spatialDims option');
      model.dispose();
      return;
    }
    randomize(model, 13);
    model.eval();
    const x = new Generator(4).normal([1, 4, 6, 8, 1]);
    const expected = tf.tidy(() => tf.transpose(tf.softmax(model.forward(x), -1), [0, 4, 1, 2, 3]));
    const input = tf.tidy(() => tf.transpose(x, [0, 4, 1, 2, 3]));
    const { probabilities } = await run(exportOnnx(model, { output: 'probabilities' }), { image: floatTensor(input) });
    expect(probabilities.dims).toEqual(expected.shape);
    expectClose(probabilities.data as Float32Array, expected.dataSync(), 1e-4, 1e-4, 'volumetric UNetSegmenter');
    tf.dispose([x, expected, input]);
    model.dispose();
  });

  it('refuses what it cannot express, with a typed error', () => {
    expect(() => exportOnnx(new Sequential(new LayerNorm(4)), { inChannels: 4 })).toThrow(OnnxExportError);
    expect(() => exportOnnx(new Sequential(new LayerNorm(4)), { inChannels: 4 })).toThrow(/no form for LayerNorm/);
    expect(() => exportOnnx(new Sequential(new BatchNorm2d(4, { trackRunningStats: false })), { inChannels: 4 })).toThrow(/trackRunningStats/);
    expect(() => exportOnnx(new Sequential(new ReLU()))).toThrow(/inChannels/);
    const net = new UNet({ inChannels: 1, outChannels: 1, channels: [4, 8] });
    expect(() => exportOnnx(net, { output: 'probabilities' })).toThrow(/UNetSegmenter only/);
    expect(() => exportOnnx(net, { layout: 'nwhc' as 'nhwc' })).toThrow(OnnxExportError);
    net.dispose();
  });
});

describe('exportOnnx: DiffusionUNet / DDPM in onnxruntime-node', () => {
  async function compareDiffusion(net: DiffusionUNet, timesteps: number[], labels: number[] | null, bytes: Uint8Array): Promise<void> {
    const n = timesteps.length;
    const x = new Generator(7).normal([n, 8, 8, net.config.inChannels]);
    const expected = tf.tidy(() => nchw(net.forward({ x, timesteps, classLabels: labels ?? undefined })));
    const feeds: Record<string, ort.Tensor> = {
      sample: floatTensor(tf.tidy(() => nchw(x))),
      timestep: new ort.Tensor('float32', Float32Array.from(timesteps), [n]),
    };
    if (labels) feeds.class_labels = new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [n]);
    const { out_sample: out } = await run(bytes, feeds);
    expect(out.dims).toEqual(expected.shape);
    expectClose(out.data as Float32Array, expected.dataSync(), 1e-4, 1e-4, 'DiffusionUNet');
    tf.dispose([x, expected]);
  }

  it('matches medvae within 1e-4: attention (2 heads), several levels, odd time-embedding width', async () => {
    const net = new DiffusionUNet({ inChannels: 2, channels: [9, 16, 16], layersPerBlock: 2, attentionLevels: [1, 2], attentionHeads: 2, normNumGroups: 4, seed: 0 });
    randomize(net, 5);
    net.eval();
    await compareDiffusion(net, [0, 17, 999], null, exportOnnx(net));
    net.dispose();
  });

  it('matches medvae within 1e-4: class-conditional, including the unconditional label −1', async () => {
    const net = new DiffusionUNet({ inChannels: 1, outChannels: 2, channels: [4, 8], layersPerBlock: 1, numClassEmbeds: 3, timeEmbeddingDim: 12, normNumGroups: 2, seed: 1 });
    randomize(net, 6);
    net.eval();
    await compareDiffusion(net, [5, 250, 40, 1], [0, 2, -1, 1], exportOnnx(net));
    net.dispose();
  });

  it('exports a DDPM with its EMA weights by default, its trained weights on request', async () => {
    const ddpm = new DDPM({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, normNumGroups: 2, numTrainTimesteps: 50, seed: 0 });
    const ema = ddpm.enableEma({ decay: 0.5 });
    randomize(ddpm.unet, 9); // the trained weights move away from the EMA's copy
    ddpm.eval();
    await compareDiffusion(ddpm.unet, [3, 30], null, exportOnnx(ddpm, { useEma: false }));
    const withEma = exportOnnx(ddpm);
    ema.store();
    ema.copyTo();
    await compareDiffusion(ddpm.unet, [3, 30], null, withEma);
    ema.restore();
    const text = new TextDecoder('latin1').decode(withEma);
    expect(text).toContain('prediction_type');
    expect(text).toContain('scheduler_config');
    expect(text).toContain('"_class_name":"DDPMScheduler"');
    ddpm.dispose();
  });
});

describe('exported files and the ONNX checker', () => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  const hasOnnx = probe.status === 0;
  if (!hasOnnx) console.log('skipping the ONNX checker test: /usr/bin/python3 has no onnx module (Debian: python3-onnx)');
  it.skipIf(!hasOnnx)('passes onnx.checker.check_model with full_check (shape inference)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-onnx-'));
    try {
      const seg = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], upsample: 'bilinear', seed: 0 });
      const diff = new DiffusionUNet({ inChannels: 1, channels: [4, 8], layersPerBlock: 1, attentionLevels: [1], numClassEmbeds: 2, normNumGroups: 2, seed: 0 });
      await saveOnnx(seg, join(dir, 'seg.onnx'), { output: 'probabilities' });
      writeFileSync(join(dir, 'diff.onnx'), exportOnnx(diff, { layout: 'nhwc' }));
      const script = [
        'import onnx, sys',
        'for f in sys.argv[1:]:',
        '    m = onnx.load(f)',
        '    onnx.checker.check_model(m, full_check=True)',
        '    print(f, m.opset_import[0].version, [i.name for i in m.graph.input], [o.name for o in m.graph.output])',
      ].join('\n');
      const res = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'seg.onnx'), join(dir, 'diff.onnx')], { encoding: 'utf8' });
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout).toContain("['image'] ['probabilities']");
      expect(res.stdout).toContain("['sample', 'timestep', 'class_labels'] ['out_sample']");
      seg.dispose();
      diff.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
