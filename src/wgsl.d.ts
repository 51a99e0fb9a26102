// WGSL sources are embedded as strings at build time (esbuild's text loader,
// and the small transform in vitest.config.ts), so no file is read at run time.
declare module "*.wgsl" {
  const source: string;
  export default source;
}
