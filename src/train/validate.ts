// The option checks moved to src/core/validate.ts (layers and optimizers use them too, and core must
// not depend on train); this re-export keeps the older import path working.
export * from '../core/validate.js';
