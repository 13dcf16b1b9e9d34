// Types of the virtual module that examples/web/vite.config.ts generates.
declare module 'virtual:medvae-optional-backends' {
  /** A loader per optional tfjs backend installed when the page was built (webgl, webgpu). */
  export const optionalBackends: Partial<Record<'webgl' | 'webgpu', () => Promise<unknown>>>;
}

// Vite's `?url` imports: the URL the built page serves the file at.
declare module '*?url' {
  const url: string;
  export default url;
}
