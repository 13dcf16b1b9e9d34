import * as tf from '@tensorflow/tfjs-core';
import { BackendError, StateDictError, ValueError } from './errors.js';
import { formatShape } from './shape.js';

/** A module of any input and output type, as stored among a parent's children. */
// Method parameters are bivariant in TypeScript, so every Module<I, O> is assignable to this.
export type AnyModule = Module<unknown, unknown>;

/** A flat mapping from dotted names (`encoder.blocks.0.conv.weight`) to tensors. */
export type StateDict = Record<string, tf.Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (the default, as in PyTorch), every key of the module must be present in the state
   * dict and no other key may appear. When false, only matching keys are loaded.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did with keys that did not match (useful with `strict: false`). */
export interface LoadStateDictResult {
  /** Keys the module has but the state dict lacked. */
  missingKeys: string[];
  /** Keys the state dict had but the module does not. */
  unexpectedKeys: string[];
}

/**
 * Base class of every layer and model, in the spirit of PyTorch's `nn.Module`.
 *
 * A module owns named parameters (trainable `tf.Variable`s), named buffers (non-trainable state
 * such as BatchNorm running statistics) and named child modules. Registration order fixes the
 * dotted names returned by {@link Module.namedParameters} and {@link Module.stateDict}, so they are
 * stable across runs and match the attribute paths a PyTorch user would expect.
 *
 * Subclasses implement {@link Module.forward} with precise types, so `vae.forward(x)` is typed as
 * whatever that model returns.
 *
 * @typeParam In - the input of `forward`.
 * @typeParam Out - the output of `forward`.
 *
 * @example
 * ```ts
 * class TwoLayer extends Module<tf.Tensor, tf.Tensor> {
 *   fc1 = this.registerModule('fc1', new Linear(4, 8));
 *   fc2 = this.registerModule('fc2', new Linear(8, 1));
 *   forward(x: tf.Tensor) { return tf.tidy(() => this.fc2.forward(tf.relu(this.fc1.forward(x)))); }
 * }
 * ```
 */
export abstract class Module<In = tf.Tensor, Out = tf.Tensor> {
  /**
   * Checks that a tfjs backend is active: a module makes tensors as it is built, and without a
   * backend tfjs would fail deep inside with "No backend found in registry". Backends initialise
   * asynchronously (wasm loads its binary), so building cannot start one itself: call
   * `await useBackend('wasm')` (medvae's default in Node) or another backend first.
   *
   * @throws {@link BackendError} naming what to call when no backend is active.
   */
  constructor() {
    ensureBackend();
  }

  private readonly parametersByName = new Map<string, tf.Variable>();
  private readonly buffersByName = new Map<string, tf.Variable>();
  private readonly childrenByName = new Map<string, AnyModule>();
  private isTraining = true;
  private disposed = false;

  /** Computes the module's output. Implementations keep intermediate tensors inside `tf.tidy`. */
  abstract forward(input: In): Out;

  /** True in training mode (the default), false after {@link Module.eval}. */
  get training(): boolean {
    return this.isTraining;
  }

  /**
   * Registers a trainable parameter under `name` and returns its variable. The module takes
   * ownership of `value`: it becomes the variable's storage and must not be disposed by the caller.
   */
  protected registerParameter(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    this.checkNewName(name);
    const variable = tf.variable(value, trainable);
    value.dispose();
    this.parametersByName.set(name, variable);
    return variable;
  }

  /**
   * Registers a non-trainable buffer (state that is saved but not optimised, such as running
   * statistics). Takes ownership of `value` as {@link Module.registerParameter} does.
   */
  protected registerBuffer(name: string, value: tf.Tensor): tf.Variable {
    this.checkNewName(name);
    const variable = tf.variable(value, false);
    value.dispose();
    this.buffersByName.set(name, variable);
    return variable;
  }

  /** Registers a child module under `name` and returns it, typed as given. */
  protected registerModule<M extends AnyModule>(name: string, module: M): M {
    this.checkNewName(name);
    this.childrenByName.set(name, module);
    return module;
  }

  private checkNewName(name: string): void {
    if (name.length === 0 || name.includes('.')) {
      throw new StateDictError(`Parameter, buffer and module names must be non-empty and contain no '.', but got '${name}'.`);
    }
    if (this.parametersByName.has(name) || this.buffersByName.has(name) || this.childrenByName.has(name)) {
      throw new StateDictError(`'${name}' is already registered on ${this.constructor.name}; pick another name.`);
    }
  }

  /** Direct children, in registration order, with their names. */
  namedChildren(): [string, AnyModule][] {
    return [...this.childrenByName.entries()];
  }

  /** Direct children, in registration order. */
  children(): AnyModule[] {
    return [...this.childrenByName.values()];
  }

  /** This module and all its descendants with dotted names (this module's name is `''`). */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [[prefix, this as AnyModule]];
    for (const [name, child] of this.childrenByName) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** This module and all its descendants. */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * All parameters with stable dotted names: own parameters first, then each child's, in
   * registration order (as PyTorch's `named_parameters`).
   */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [name, v] of this.parametersByName) out.push([join(prefix, name), v]);
    for (const [name, child] of this.childrenByName) out.push(...child.namedParameters(join(prefix, name)));
    return out;
  }

  /** All parameters, in the order of {@link Module.namedParameters}. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** The parameters an optimizer should update (those whose `trainable` flag is set). */
  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** All buffers with dotted names, in the same order rule as parameters. */
  namedBuffers(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [name, v] of this.buffersByName) out.push([join(prefix, name), v]);
    for (const [name, child] of this.childrenByName) out.push(...child.namedBuffers(join(prefix, name)));
    return out;
  }

  /**
   * Freezes (`false`) or unfreezes (`true`) every parameter of this module and its children, as
   * PyTorch's `requires_grad_`. Frozen parameters are left out of {@link Module.trainableParameters}.
   */
  requiresGrad(flag = true): this {
    for (const v of this.parameters()) v.trainable = flag;
    return this;
  }

  /** Sets training mode on this module and all descendants. Returns `this`. */
  train(mode = true): this {
    for (const m of this.modules()) (m as Module<unknown, unknown>).isTraining = mode;
    return this;
  }

  /** Sets evaluation mode (dropout off, BatchNorm uses running statistics). Returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /** Number of scalar parameters (trainable only when `trainableOnly` is true). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((v) => !trainableOnly || v.trainable)
      .reduce((n, v) => n + v.size, 0);
  }

  /**
   * The module's parameters and buffers by dotted name, in PyTorch order (own parameters, own
   * buffers, then each child). The tensors are the live variables, not copies: read or save them,
   * but do not dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = {};
    for (const [name, v] of this.parametersByName) out[join(prefix, name)] = v;
    for (const [name, v] of this.buffersByName) out[join(prefix, name)] = v;
    for (const [name, child] of this.childrenByName) Object.assign(out, child.stateDict(join(prefix, name)));
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. Names and shapes are
   * checked before anything is written, so a failed load leaves the module unchanged.
   *
   * @throws {@link StateDictError} listing missing and unexpected keys (strict mode) and every
   *   shape or dtype mismatch.
   */
  loadStateDict(state: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !(k in own));
    const problems: string[] = [];
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      if (missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    }
    for (const [key, target] of Object.entries(own)) {
      const source = state[key];
      if (source === undefined) continue;
      if (!sameShape(source.shape, target.shape)) {
        problems.push(`${key}: shape ${formatShape(source.shape)} in the state dict, ${formatShape(target.shape)} in the module`);
      } else if (source.dtype !== target.dtype) {
        problems.push(`${key}: dtype ${source.dtype} in the state dict, ${target.dtype} in the module`);
      }
    }
    if (problems.length > 0) {
      throw new StateDictError(
        `Cannot load state dict into ${this.constructor.name}:\n  - ${problems.join('\n  - ')}\n` +
          'Check that the model was built with the same configuration as the saved one ' +
          '(or pass { strict: false } to load only the keys that match).',
      );
    }
    for (const [key, target] of Object.entries(own)) {
      const source = state[key];
      if (source !== undefined && source !== target) (target as tf.Variable).assign(source);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * How this module's parameter `name` is laid out relative to PyTorch: the permutation `perm` such
   * that `medvaeTensor = transpose(torchTensor, perm)`, or `null` when the layouts agree. Layers
   * whose weights differ from PyTorch's (Linear, Conv2d, ConvTranspose2d) override this; it drives
   * the PyTorch / safetensors import and export in `io/`.
   */
  torchLayout(name: string): readonly number[] | null {
    void name;
    return null;
  }

  /** Releases every parameter and buffer of this module and its descendants. Idempotent. */
  dispose(): void {
    for (const m of this.modules()) {
      const mod = m as Module<unknown, unknown>;
      if (mod.disposed) continue;
      for (const v of mod.parametersByName.values()) v.dispose();
      for (const v of mod.buffersByName.values()) v.dispose();
      mod.disposed = true;
      // Running a disposed module would reach freed tensors and fail with a raw TypeError; its
      // forward (which every predict, sample and fit goes through) now says what happened instead.
      const name = mod.constructor.name;
      Object.defineProperty(mod, 'forward', {
        configurable: true,
        value: () => {
          throw new ValueError(`This ${name} was disposed (its weights are freed), so it cannot run. Build or load the model again.`);
        },
      });
    }
  }

  /** True once {@link Module.dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * A one-line description of the module's configuration, shown by {@link Module.toString} and
   * {@link Module.summary} (as PyTorch's `extra_repr`). Layers override it.
   */
  extraRepr(): string {
    return '';
  }

  /** PyTorch-style nested description of the module tree. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.childrenByName.size === 0) return `${head})`;
    const lines = [...this.childrenByName].map(([name, child]) =>
      `  (${name}): ${child.toString().split('\n').join('\n  ')}`,
    );
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /**
   * A readable table of every module with its own parameter shapes and counts, and totals.
   *
   * @example
   * ```
   * name            type     parameters                 #params
   * 0               Conv2d   weight [3,3,1,8] bias [8]  80
   * ...
   * Total parameters: 1,234 (trainable 1,234); buffers: 16
   * ```
   */
  summary(): string {
    const rows: [string, string, string, string][] = [['name', 'type', 'parameters', '#params']];
    for (const [name, m] of this.namedModules()) {
      const mod = m as Module<unknown, unknown>;
      const own = [...mod.parametersByName];
      const desc = own.map(([n, v]) => `${n} [${v.shape.join(',')}]`).join(' ');
      const count = own.reduce((s, [, v]) => s + v.size, 0);
      const type = `${m.constructor.name}${m.extraRepr() ? `(${m.extraRepr()})` : ''}`;
      rows.push([name || '(root)', type, desc, count > 0 ? count.toLocaleString('en-US') : '']);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
    const total = this.numParameters();
    const trainable = this.numParameters(true);
    const buffers = this.namedBuffers().reduce((s, [, v]) => s + v.size, 0);
    lines.push(
      `Total parameters: ${total.toLocaleString('en-US')} (trainable ${trainable.toLocaleString('en-US')}); ` +
        `buffers: ${buffers.toLocaleString('en-US')}`,
    );
    return lines.join('\n');
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a {@link BackendError} saying what to call when tfjs has no backend to make tensors on. */
function ensureBackend(): void {
  try {
    tf.backend();
  } catch (err) {
    throw new BackendError(
      "No tfjs backend is active, so no model can be built. Call `await useBackend('wasm')` from medvae first " +
        "(or 'cpu', 'webgl', 'webgpu', 'tensorflow'); in Node wasm is medvae's default.",
      { cause: err },
    );
  }
}
