// `import 'medvae/backends/webgpu'`: a literal import of the WebGPU backend package, so that
// bundlers (Vite, esbuild, webpack) include it; importing it registers the 'webgpu' backend with
// tfjs, after which `useBackend('webgpu')` activates it (in Node, useBackend also installs the
// `webgpu` package's Dawn as `navigator.gpu`). medvae's own import of the optional package goes
// through a variable (apps without the package must still build) and is never bundled.
import '@tensorflow/tfjs-backend-webgpu';

/** The backend this entry point registers, for `useBackend(backend)`. */
export const backend = 'webgpu' as const;
