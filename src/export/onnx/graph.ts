// Builds an ONNX graph node by node and serialises it with @bufbuild/protobuf through the code
// generated from the ONNX project's own onnx.proto (proto/onnx_pb.ts), so the file format is the
// library's business, not ours.
import { create, toBinary } from '@bufbuild/protobuf';
import * as tf from '@tensorflow/tfjs-core';
import { OnnxExportError } from './errors.js';
import {
  AttributeProto_AttributeType,
  ModelProtoSchema,
  TensorProto_DataType,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
  AttributeProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from './proto/onnx_pb.js';

/** An attribute value of an ONNX node, tagged with its ONNX type (a JS number could be either). */
export type OnnxAttribute =
  | { int: number }
  | { ints: readonly number[] }
  | { float: number }
  | { floats: readonly number[] }
  | { string: string };

/** Element types the exporter writes. */
export type OnnxElementType = 'float32' | 'int64';

/** A dimension of a graph input or output: a fixed size, or a name for a size chosen at run time. */
export type OnnxDim = number | string;

/** The ONNX opset the exporter targets: 17 is read by onnxruntime ≥ 1.13 and by onnx ≥ 1.12's checker. */
export const ONNX_OPSET = 17;

/** IR version 8 is the one that goes with opset 17. */
const IR_VERSION = 8n;

/** Metadata written into the model. */
export interface OnnxModelInfo {
  /** Free text stored as the model's doc string. */
  docString?: string;
  /** Key/value pairs stored as `metadata_props` (e.g. the medvae class and config). */
  metadata?: Record<string, string>;
}

/**
 * An ONNX graph under construction. Values are referred to by name; {@link OnnxGraph.op} adds a
 * node and returns the name of its (single) output. Weights become initializers named after the
 * medvae parameter they come from, so the ONNX file reads like the model's state dict.
 */
export class OnnxGraph {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly taken = new Set<string>();
  private readonly weightCache = new Map<string, string>();

  /** @param paramNames - the dotted name of every parameter and buffer of the exported model. */
  constructor(private readonly paramNames: ReadonlyMap<tf.Tensor, string>) {}

  /** A value name not used yet, built from `hint`. */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  addInput(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    if (this.taken.has(name)) throw new OnnxExportError(`ONNX input name '${name}' is used twice; give distinct names.`);
    this.taken.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Makes `value` a graph output called `name` (through an Identity node, so any value can be one). */
  addOutput(value: string, name: string, type: OnnxElementType, dims: readonly OnnxDim[]): void {
    if (this.taken.has(name)) throw new OnnxExportError(`ONNX output name '${name}' is already a value of the graph; pick another.`);
    this.taken.add(name);
    this.nodes.push(create(NodeProtoSchema, { opType: 'Identity', input: [value], output: [name], name: `${name}_out` }));
    this.outputs.push(valueInfo(name, type, dims));
  }

  /**
   * The initializer holding `tensor` (a parameter or buffer of the model) in ONNX layout:
   * `perm` is the permutation with `medvae = transpose(onnx, perm)` (a layer's `torchLayout`, since
   * ONNX stores weights as PyTorch does), or null when the layouts agree. `shape`, when given,
   * reshapes the result (e.g. a per-channel bias to `[C, 1, 1]` for broadcasting over NCHW).
   */
  weight(tensor: tf.Tensor, perm: readonly number[] | null = null, shape?: readonly number[]): string {
    const base = this.paramNames.get(tensor);
    if (base === undefined) {
      throw new OnnxExportError('A layer refers to a tensor that is not a parameter or buffer of the exported model; export the model that owns it.');
    }
    const key = `${base}|${perm?.join(',') ?? ''}|${shape?.join(',') ?? ''}`;
    const cached = this.weightCache.get(key);
    if (cached !== undefined) return cached;
    const values = tf.tidy(() => {
      let t = tensor.dtype === 'float32' ? tensor : tf.cast(tensor, 'float32');
      if (perm !== null) t = tf.transpose(t, inversePermutation(perm));
      return { data: t.dataSync() as Float32Array, dims: t.shape };
    });
    const name = this.constant(values.data, shape ?? values.dims, shape || perm ? `${base}.onnx` : base);
    this.weightCache.set(key, name);
    return name;
  }

  /** A float32 constant initializer. */
  constant(values: Float32Array | readonly number[], dims: readonly number[], hint = 'const'): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    checkSize(data.length, dims, hint);
    const name = this.fresh(hint);
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
    this.initializers.push(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: raw }));
    return name;
  }

  /** An int64 constant initializer (shapes, axes, sizes). */
  int64(values: readonly number[], dims: readonly number[] = [values.length], hint = 'ints'): string {
    checkSize(values.length, dims, hint);
    const name = this.fresh(hint);
    this.initializers.push(create(TensorProtoSchema, {
      name, dims: dims.map(BigInt), dataType: TensorProto_DataType.INT64, int64Data: values.map(BigInt),
    }));
    return name;
  }

  /**
   * Adds a node of operator `type` (default domain, opset {@link ONNX_OPSET}) and returns the name
   * of its output. An empty string in `inputs` leaves an optional input out, as ONNX specifies.
   */
  op(type: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, hint?: string): string {
    const out = this.fresh(hint ?? type);
    this.nodes.push(create(NodeProtoSchema, {
      opType: type,
      name: `${out}_node`,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    }));
    return out;
  }

  /** The serialised model (an ONNX `ModelProto`). */
  toBinary(graphName: string, info: OnnxModelInfo = {}): Uint8Array {
    const model = create(ModelProtoSchema, {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: BigInt(ONNX_OPSET) }],
      producerName: 'medvae',
      docString: info.docString ?? '',
      metadataProps: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return toBinary(ModelProtoSchema, model);
  }
}

function attribute(name: string, value: OnnxAttribute): AttributeProto {
  const T = AttributeProto_AttributeType;
  if ('int' in value) return create(AttributeProtoSchema, { name, type: T.INT, i: BigInt(value.int) });
  if ('ints' in value) return create(AttributeProtoSchema, { name, type: T.INTS, ints: value.ints.map(BigInt) });
  if ('float' in value) return create(AttributeProtoSchema, { name, type: T.FLOAT, f: value.float });
  if ('floats' in value) return create(AttributeProtoSchema, { name, type: T.FLOATS, floats: [...value.floats] });
  return create(AttributeProtoSchema, { name, type: T.STRING, s: new TextEncoder().encode(value.string) });
}

function valueInfo(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: type === 'float32' ? TensorProto_DataType.FLOAT : TensorProto_DataType.INT64,
          shape: {
            dim: dims.map((d) => ({
              value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d },
            })),
          },
        },
      },
    },
  });
}

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

function checkSize(length: number, dims: readonly number[], what: string): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== length) throw new OnnxExportError(`ONNX constant '${what}': ${length} values do not fill the shape [${dims.join(', ')}].`);
}
