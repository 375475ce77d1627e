// crasher: announces "crasher" and echoes, but on command it dies the ways firmware dies —
// "mmu" stores to an unmapped address (an MMU fault), "panic" raises a fatal error, "hang" spins
// without servicing anything (the watchdog, if armed, catches it).

import type { JsProgram } from '../js-firmware-env.ts';

const UNMAPPED_DA = 0x0000_1000;

const crasher: JsProgram = (env) => {
  env.rpmsg.createEndpoint({
    name: 'crasher',
    cb: (data, src, ept) => {
      const cmd = new TextDecoder().decode(data).trim();
      if (cmd === 'mmu') env.store32(UNMAPPED_DA, 0xdead_beef);
      if (cmd === 'panic') env.panic('crash requested by the host');
      if (cmd === 'hang') for (;;) if (env.halting) return;
      ept.trySendTo(src, data);
    },
  });
  env.trace('crasher: ready');
};

export default crasher;
