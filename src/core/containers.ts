// Typed containers of child modules, as PyTorch's nn.ModuleList and nn.ModuleDict: the children
// are registered (so their parameters, buffers, state-dict names and dispose follow the parent),
// and reading one back keeps its type, with no cast at the use site.
import { ValueError } from './errors.js';
import { Module, type AnyModule } from './module.js';

/**
 * An ordered list of child modules of one type, registered as `0`, `1`, … (state-dict keys
 * `<name>.0.weight`, as PyTorch's `nn.ModuleList`). It holds modules; it does not run them.
 *
 * @example
 * ```ts
 * class Tower extends Module<tf.Tensor, tf.Tensor> {
 *   blocks = this.registerModule('blocks', new ModuleList([new Linear(4, 4), new Linear(4, 4)]));
 *   forward(x: tf.Tensor) { return tf.tidy(() => this.blocks.items().reduce((h, b) => b.forward(h), x)); }
 * }
 * ```
 */
export class ModuleList<M extends AnyModule> extends Module<never, never> implements Iterable<M> {
  private readonly list: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends a module (registered under the next index) and returns it. */
  push(module: M): M {
    this.list.push(this.registerModule(String(this.list.length), module));
    return module;
  }

  /** Number of modules. */
  get length(): number {
    return this.list.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    const i = index < 0 ? this.list.length + index : index;
    const m = this.list[i];
    if (!Number.isInteger(index) || m === undefined) throw new ValueError(`ModuleList index ${index} is out of range for ${this.list.length} modules.`);
    return m;
  }

  /** The modules, in order (a copy of the list). */
  items(): M[] {
    return [...this.list];
  }

  [Symbol.iterator](): Iterator<M> {
    return this.list[Symbol.iterator]();
  }

  /** A container does not run: call its modules. */
  forward(): never {
    throw new ValueError('ModuleList holds modules but does not run them; call its items (e.g. for (const m of list) x = m.forward(x)).');
  }
}

/**
 * Named child modules with their types kept per key, as PyTorch's `nn.ModuleDict`: registered
 * under their keys (state-dict keys `<name>.<key>.weight`), in the order given.
 *
 * @example
 * ```ts
 * const heads = new ModuleDict({ mu: new Linear(16, 2), logVar: new Linear(16, 2) });
 * heads.get('mu');   // typed Linear
 * ```
 */
export class ModuleDict<T extends Record<string, AnyModule>> extends Module<never, never> {
  private readonly byKey: T;

  constructor(modules: T) {
    super();
    for (const [key, m] of Object.entries(modules)) this.registerModule(key, m);
    this.byKey = { ...modules };
  }

  /** The module under `key`, with its own type. */
  get<K extends keyof T & string>(key: K): T[K] {
    const m = this.byKey[key];
    if (m === undefined) throw new ValueError(`ModuleDict has no module '${key}' (it has ${Object.keys(this.byKey).join(', ') || 'none'}).`);
    return m;
  }

  /** Whether a module is registered under `key`. */
  has(key: string): key is keyof T & string {
    return Object.prototype.hasOwnProperty.call(this.byKey, key);
  }

  /** The keys, in registration order. */
  keys(): Array<keyof T & string> {
    return Object.keys(this.byKey) as Array<keyof T & string>;
  }

  /** A container does not run: call its modules. */
  forward(): never {
    throw new ValueError("ModuleDict holds modules but does not run them; call one of them (e.g. dict.get('name').forward(x)).");
  }
}
