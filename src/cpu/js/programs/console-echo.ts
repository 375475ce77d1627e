// console-echo: serves two virtio devices at once — its rproc-serial console echoes every byte it
// receives with ASCII letters upper-cased (after a "console-echo ready" banner), and the
// "rpmsg-echo" channel sends every message back — to show a firmware with several vdevs of
// different types, each bound to its own driver on the host.

import type { JsProgram } from '../js-firmware-env.ts';

const LOWER_A = 0x61;
const LOWER_Z = 0x7a;

/** ASCII a-z to A-Z, byte by byte (anything else, UTF-8 included, passes unchanged). */
export function upperAscii(data: Uint8Array): Uint8Array {
  const out = data.slice();
  for (let i = 0; i < out.length; i++) {
    const b = out[i] ?? 0;
    if (b >= LOWER_A && b <= LOWER_Z) out[i] = b - 0x20;
  }
  return out;
}

export const CONSOLE_ECHO_BANNER = 'console-echo ready\n';

const consoleEcho: JsProgram = (env) => {
  const con = env.console ?? env.panic('console-echo needs an rproc-serial or console vdev');
  let dropped = 0;
  con.onData((data) => {
    const reply = upperAscii(data);
    // Non-blocking: the console device throttles its input while its output waits, so with the
    // default queue an echo only drops bytes if the host stops reading for a long time.
    const n = con.write(reply);
    if (n < reply.length) {
      dropped += reply.length - n;
      env.trace(`console-echo: ${dropped} bytes dropped so far`);
    }
  });
  con.write(CONSOLE_ECHO_BANNER);
  env.rpmsg.createEndpoint({
    name: 'rpmsg-echo',
    cb: (data, src, ept) => {
      const err = ept.trySendTo(src, data);
      if (err !== 0) env.trace(`console-echo: rpmsg reply to ${src} dropped (${err})`);
    },
  });
  env.trace('console-echo: ready');
};

export default consoleEcho;
