// Side-effect module with no exports: see scripts/bundle-tfjs-gradients.mjs.
export {};
