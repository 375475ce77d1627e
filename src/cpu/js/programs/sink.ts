// sink: announces "rpmsg-sink" and counts what the host sends without answering, for one-way
// throughput measurements; the message "report" is answered with the counts so far as JSON
// ({"messages":n,"bytes":b}), and "reset" zeroes them.

import type { JsProgram } from '../js-firmware-env.ts';

const REPORT = 'report';
const RESET = 'reset';

/** Whether `data` spells `word` in ASCII (checked byte by byte: no decoding on the hot path). */
function is(data: Uint8Array, word: string): boolean {
  if (data.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (data[i] !== word.charCodeAt(i)) return false;
  return true;
}

const sink: JsProgram = (env) => {
  let messages = 0;
  let bytes = 0;
  env.rpmsg.createEndpoint({
    name: 'rpmsg-sink',
    cb: (data, src, ept) => {
      if (is(data, REPORT)) {
        const err = ept.trySendTo(src, new TextEncoder().encode(JSON.stringify({ messages, bytes })));
        if (err !== 0) env.trace(`sink: report to ${src} dropped (${err})`);
        return;
      }
      if (is(data, RESET)) {
        messages = 0;
        bytes = 0;
        return;
      }
      messages++;
      bytes += data.length;
    },
  });
  env.trace('sink: ready');
};

export default sink;
