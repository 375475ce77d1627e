// rpmsg-echo: announces the "rpmsg-echo" channel and sends every message back to its sender —
// the remote half of Linux's rpmsg_client_sample and OpenAMP's echo demo.

import type { JsProgram } from '../js-firmware-env.ts';

const echo: JsProgram = (env) => {
  let count = 0;
  env.rpmsg.createEndpoint({
    name: 'rpmsg-echo',
    cb: (data, src, ept) => {
      count++;
      // Non-blocking: a host that stops returning buffers loses echoes rather than stalling the core.
      const err = ept.trySendTo(src, data);
      if (err !== 0) env.trace(`echo: reply ${count} to ${src} dropped (${err})`);
    },
  });
  env.trace('rpmsg-echo: ready');
  env.uart('rpmsg-echo firmware up\n');
};

export default echo;
