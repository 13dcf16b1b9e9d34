// `import 'medvae/backends/webgl'`: a literal import of the WebGL backend package, so that bundlers
// (Vite, esbuild, webpack) include it; importing it registers the 'webgl' backend with tfjs, after
// which `useBackend('webgl')` activates it. medvae's own import of the optional package goes
// through a variable (apps without the package must still build) and is never bundled.
import '@tensorflow/tfjs-backend-webgl';

/** The backend this entry point registers, for `useBackend(backend)`. */
export const backend = 'webgl' as const;
