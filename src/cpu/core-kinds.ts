// The built-in core kinds, registered with the SoC's core-kind registry (src/soc/core-kind.ts) when
// this module is imported: "js" (a TypeScript firmware program) and "rv32" (an RV32IMAC hart
// running ELF firmware). Whoever builds a VirtualSoc imports this first (the CLI, tests, benches).

import { registerCoreKind, type CoreKindDefinition } from '../soc/core-kind.ts';
import { jsCoreKind } from './js/js-core-kind.ts';
import { rv32CoreKind } from './rv32/rv32-core-kind.ts';

const BUILTIN_CORE_KINDS: readonly CoreKindDefinition[] = [jsCoreKind, rv32CoreKind];

for (const kind of BUILTIN_CORE_KINDS) registerCoreKind(kind);
