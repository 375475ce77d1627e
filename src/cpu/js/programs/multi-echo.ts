// multi-echo: announces four echo channels, "echo-0" to "echo-3", each its own endpoint sending
// every message back to its sender — several endpoints on one vdev, for scale tests.

import type { JsProgram } from '../js-firmware-env.ts';

export const MULTI_ECHO_ENDPOINTS = 4;

const multiEcho: JsProgram = (env) => {
  for (let i = 0; i < MULTI_ECHO_ENDPOINTS; i++) {
    let dropped = 0;
    env.rpmsg.createEndpoint({
      name: `echo-${i}`,
      cb: (data, src, ept) => {
        // Non-blocking like rpmsg-echo: a host that stops returning buffers loses echoes.
        if (ept.trySendTo(src, data) !== 0 && dropped++ === 0) env.trace(`echo-${i}: reply dropped`);
      },
    });
  }
  env.trace(`multi-echo: ${MULTI_ECHO_ENDPOINTS} endpoints ready`);
};

export default multiEcho;
