// `medvae/models`: every model of the root entry, MONAI's BasicUNet port included (the root
// exports that file separately from src/models/index.ts).
export * from '../models/index.js';
export * from '../models/monai/basic-unet.js';
