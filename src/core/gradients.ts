import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from './errors.js';

// A gradient computation that returns the same numbers as `tf.variableGrads` but frees memory as
// the backward pass goes, the way PyTorch's autograd does.
//
// tfjs-core's own backward pass keeps two things until it ends: the tensors each kernel saved for
// its gradient (the forward activations) and the gradient of every intermediate tensor. Its peak is
// therefore about twice the activations. Here each kernel's saved tensors are released right after
// that kernel's gradient has been computed, and each intermediate gradient as soon as the kernel
// that produced the tensor has consumed it, so the peak stays near the activations alone.
//
// This walks tfjs-core's public engine state (`tf.engine().state.activeTape`), which tfjs 4.x
// fills while a gradient is recorded. Where that state does not look as expected, or when called
// inside another gradient computation (double backprop, e.g. a gradient penalty), the work is
// handed to `tf.variableGrads` unchanged.

/** The part of a tfjs tape node this module reads. */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The part of tfjs's engine state that records a tape. */
interface TapeState {
  activeTape: TapeNode[] | null;
  gradientDepth: number;
}

/** A node on the path from the variables to the loss, with its inputs narrowed to that path. */
interface PathNode {
  node: TapeNode;
  inputs: Array<[string, tf.Tensor]>;
}

/** Result of {@link variableGrads}: the loss and one gradient per trainable variable it depends on. */
export interface VariableGradsResult {
  /** The scalar `f()` returned. The caller owns it. */
  value: tf.Scalar;
  /** Gradient of `value` with respect to each variable, keyed by `variable.name`. The caller owns them. */
  grads: Record<string, tf.Tensor>;
}

function engineTapeState(): TapeState | null {
  const state = (tf.engine() as unknown as { state?: Partial<TapeState> }).state;
  // `activeTape` is unset until the first recording, then an array or null.
  const tape = state?.activeTape;
  if (state === undefined || typeof state.gradientDepth !== 'number' || !(tape === undefined || tape === null || Array.isArray(tape))) return null;
  return state as TapeState;
}

/** True when medvae's memory-lean backward pass can run here (tfjs 4.x engine, not nested). */
export function leanBackwardAvailable(): boolean {
  const state = engineTapeState();
  return state !== null && state.gradientDepth === 0;
}

/**
 * Computes `f()` and the gradients of its scalar result with respect to `varList` (default: every
 * trainable variable), like `tf.variableGrads`, with a lower memory peak.
 *
 * The results are identical to `tf.variableGrads` (same kernels in the same order); what differs is
 * when memory is released: each activation saved for the backward pass is freed once its kernel's
 * gradient is done, and each intermediate gradient once it has been passed on, so a training step
 * peaks near parameters + optimizer state + activations instead of about twice the activations
 * (see docs/benchmarks.md, section 5). Variables that are not trainable are skipped; variables the
 * result does not depend on get no entry in `grads`.
 *
 * Nested inside another gradient computation (for example a gradient penalty's inner `tf.grad`
 * while the outer step records), it defers to `tf.variableGrads`, which keeps what the outer
 * pass needs.
 *
 * @param f - Returns the scalar to differentiate (typically a loss; any tensor type is accepted, so a
 *   medvae loss can be returned as it is, and its rank is checked); runs once, inside `tf.tidy`.
 * @param varList - The variables to differentiate with respect to.
 * @throws ValueError when no variable is trainable, `f` does not return a scalar, or the result
 *   does not depend on any of the variables.
 */
export function variableGrads(f: () => tf.Tensor, varList?: tf.Variable[]): VariableGradsResult {
  const all = varList ?? Object.values(tf.engine().registeredVariables);
  const trainable = all.filter((v) => v.trainable);
  if (trainable.length === 0) {
    throw new ValueError(
      `variableGrads needs at least one trainable variable, but none of the ${all.length} given is trainable. ` +
        'Pass the parameters to train (e.g. module.trainableParameters()).',
    );
  }
  const state = engineTapeState();
  if (state === null || state.gradientDepth > 0) {
    const stock = tf.variableGrads(f as () => tf.Scalar, trainable);
    const grads: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(stock.grads)) if (g !== null) grads[name] = g;
    return { value: stock.value, grads };
  }
  return leanVariableGrads(state, f, trainable);
}

function leanVariableGrads(state: TapeState, f: () => tf.Tensor, xs: tf.Variable[]): VariableGradsResult {
  state.activeTape = [];
  state.gradientDepth += 1;
  let y: tf.Tensor;
  try {
    y = tf.tidy(f);
  } catch (err) {
    state.gradientDepth -= 1;
    releaseTape(state, new Set());
    throw err;
  }
  state.gradientDepth -= 1;
  const tape = state.activeTape ?? [];
  const keep = new Set<tf.Tensor>();
  try {
    if (!(y instanceof tf.Tensor) || y.rank !== 0) {
      const got = y instanceof tf.Tensor ? `a tensor of shape [${y.shape.join(', ')}]` : typeof y;
      throw new ValueError(`variableGrads: f must return a scalar tensor (e.g. a mean loss), but it returned ${got}. Reduce it with tf.mean or tf.sum.`);
    }
    const path = nodesFromXsToY(tape, xs, y);
    // What kernels off the path saved (e.g. running-statistics updates) is never read.
    const onPath = new Set(path.map((p) => p.node));
    for (const node of tape) if (!onPath.has(node)) for (const t of node.saved ?? []) t.dispose();
    const grads = tf.tidy(() => backward(path, xs, y));
    if (Object.keys(grads).length === 0) {
      throw new ValueError(
        'variableGrads: the result of f does not depend on any of the given variables. Make sure the ' +
          'operations that use the parameters run inside f.',
      );
    }
    for (const g of Object.values(grads)) keep.add(g);
    return { value: y as tf.Scalar, grads };
  } catch (err) {
    // Free the result only if f made it: f may return a tensor (or variable) of the caller's.
    if (tape.some((node) => node.outputs.includes(y))) y.dispose();
    throw err;
  } finally {
    releaseTape(state, keep);
  }
}

/** Frees every saved tensor still on the tape (except `keep`) and ends the recording. */
function releaseTape(state: TapeState, keep: Set<tf.Tensor>): void {
  for (const node of state.activeTape ?? []) {
    for (const t of node.saved ?? []) if (!keep.has(t)) t.dispose();
  }
  state.activeTape = null;
}

/**
 * The tape nodes that lie on a path from one of `xs` to `y`, in recording order, each with only
 * the inputs that depend on `xs` (gradients flow only into those).
 */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): PathNode[] {
  const dependsOnX = new Set<number>(xs.map((x) => x.id));
  const fromX: boolean[] = tape.map((node) => {
    const hit = Object.values(node.inputs).some((t) => dependsOnX.has(t.id));
    if (hit) for (const o of node.outputs) dependsOnX.add(o.id);
    return hit;
  });
  const feedsY = new Set<number>([y.id]);
  const toY: boolean[] = new Array<boolean>(tape.length).fill(false);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => feedsY.has(o.id))) continue;
    toY[i] = true;
    for (const t of Object.values(node.inputs)) feedsY.add(t.id);
  }
  const path: PathNode[] = [];
  tape.forEach((node, i) => {
    if (!fromX[i] || !toY[i]) return;
    path.push({ node, inputs: Object.entries(node.inputs).filter(([, t]) => dependsOnX.has(t.id)) });
  });
  return path;
}

/**
 * Walks `path` backwards from `y`, freeing as it goes, and returns the gradients of `xs` by name.
 * Runs inside a tidy; what it returns is all that survives.
 */
function backward(path: PathNode[], xs: tf.Variable[], y: tf.Tensor): Record<string, tf.Tensor> {
  // Gradient per tensor id, and how many ids hold each gradient tensor: a gradient function may pass
  // dy through as dx, so one tensor can be the gradient of several ids at once.
  const gradOf = new Map<number, tf.Tensor>();
  const holders = new Map<tf.Tensor, number>();
  const xIds = new Set(xs.map((x) => x.id));
  const hold = (id: number, g: tf.Tensor): void => {
    gradOf.set(id, g);
    holders.set(g, (holders.get(g) ?? 0) + 1);
  };
  const drop = (id: number): void => {
    const g = gradOf.get(id);
    if (g === undefined) return;
    gradOf.delete(id);
    const left = (holders.get(g) ?? 1) - 1;
    if (left > 0) {
      holders.set(g, left);
    } else {
      holders.delete(g);
      g.dispose();
    }
  };
  hold(y.id, tf.onesLike(y));

  for (let i = path.length - 1; i >= 0; i--) {
    const { node, inputs } = path[i];
    const dys = node.outputs.map((o) => gradOf.get(o.id) ?? null);
    const gradient = node.gradient;
    if (gradient === undefined) {
      throw new ValueError(`variableGrads: kernel ${node.kernelName} has no registered gradient, so nothing can be backpropagated through it. Register one with tf.registerGradient or avoid the op inside f.`);
    }
    const dxs = tf.tidy(() => {
      const fns = gradient(dys);
      return inputs.map(([name]) => {
        const fn = fns[name];
        if (fn === undefined) {
          throw new ValueError(`variableGrads: the gradient of ${node.kernelName} has no entry for its input '${name}' (it has ${Object.keys(fns).join(', ')}).`);
        }
        return fn();
      });
    });
    inputs.forEach(([name, x], k) => {
      const dx = dxs[k];
      if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new ValueError(
          `variableGrads: the gradient of ${node.kernelName} for input '${name}' is ${dx.dtype} [${dx.shape.join(', ')}], ` +
            `but the input is [${x.shape.join(', ')}] and gradients must be float32 of the same shape.`,
        );
      }
      const current = gradOf.get(x.id);
      if (current === undefined) {
        hold(x.id, dx);
        return;
      }
      const sum = tf.add(current, dx);
      drop(x.id);
      hold(x.id, sum);
      if (!holders.has(dx)) dx.dispose();
    });
    // Every tensor is produced by exactly one node, so its gradient is not needed past this point.
    for (const o of node.outputs) if (!xIds.has(o.id)) drop(o.id);
    for (const t of node.saved ?? []) if (!holders.has(t)) t.dispose();
  }

  const grads: Record<string, tf.Tensor> = {};
  for (const x of xs) {
    const g = gradOf.get(x.id);
    if (g !== undefined) grads[x.name] = g;
  }
  return grads;
}

/** Result of {@link variableGradsWithAux}: the loss, its gradients, and the auxiliary outputs. */
export interface VariableGradsAuxResult<A extends tf.TensorContainer> extends VariableGradsResult {
  /** What `f` returned beside the loss (e.g. the loss's terms, for logging). The caller owns its tensors. */
  aux: A;
}

function tensorsOf(c: tf.TensorContainer, out: tf.Tensor[] = []): tf.Tensor[] {
  if (c instanceof tf.Tensor) out.push(c);
  else if (Array.isArray(c)) for (const x of c) tensorsOf(x, out);
  else if (c !== null && typeof c === 'object') for (const x of Object.values(c)) tensorsOf(x as tf.TensorContainer, out);
  return out;
}

/**
 * {@link variableGrads} for an `f` that returns more than the loss, like JAX's / Equinox's
 * `has_aux`: `f` returns `{ value, aux }`; the gradients are of `value` alone, and `aux` (any
 * tensors, arrays or objects of tensors computed on the way, such as a loss's separate terms or
 * intermediate outputs reused later in the step) comes back alive, owned by the caller. No
 * variable has to be smuggled out of the closure.
 *
 * @example
 * ```ts
 * const { value, grads, aux } = variableGradsWithAux(() => {
 *   const t = vae.loss(x);
 *   return { value: t.loss, aux: { reconstruction: t.reconstruction, kl: t.kl } };
 * }, params);
 * ```
 */
export function variableGradsWithAux<A extends tf.TensorContainer>(
  f: () => { value: tf.Tensor; aux: A },
  varList?: tf.Variable[],
): VariableGradsAuxResult<A> {
  let aux: A | undefined;
  let kept: tf.Tensor[] = [];
  try {
    const result = variableGrads(() => {
      const out = f();
      aux = out.aux;
      // Kept so the tidy around f does not free them; their ownership passes to the caller.
      kept = tensorsOf(out.aux).map((t) => tf.keep(t));
      return out.value;
    }, varList);
    return { ...result, aux: aux as A };
  } catch (err) {
    tf.dispose(kept);
    throw err;
  }
}
