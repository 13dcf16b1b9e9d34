// Side-effect module: registers tfjs-core's gradient functions (see scripts/bundle-tfjs-gradients.mjs
// for why medvae carries its own bundle of them). Registration is idempotent: tfjs keeps one global
// gradient registry, and re-registering a kernel's gradient only replaces it with the same function.
import './vendor/tfjs-gradients.js';
