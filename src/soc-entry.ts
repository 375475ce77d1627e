// The package's 'remoteproc-ts/soc' entry point: the virtual SoC's public surface (src/soc/index.ts)
// with the built-in core kinds (js, rv32; src/cpu/core-kinds.ts) registered, so that
// `new VirtualSoc()` runs the default board out of the box. It sits above both layers because soc
// never imports an engine; src/soc/index.ts alone is the SoC without engines.

import './cpu/core-kinds.ts';

export * from './soc/index.ts';
