/**
 * The part of Node's WebAssembly global that the transformation runners use: TypeScript
 * declares it only in the DOM libraries, which this project does not load.
 */
declare namespace WebAssembly {
  // An opaque compiled module; it is only passed along (to a runner, to QuickJS).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Module {}
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  const Memory: new (descriptor: { initial: number; maximum?: number }) => Memory;
  function compile(bytes: Uint8Array): Promise<Module>;
}
