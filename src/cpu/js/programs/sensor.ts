// sensor: announces "sensor"; after the host's first message ("start" or a period in ms) it streams
// readings — a counter, a timestamp and a simulated temperature — every period, until "stop".

import type { JsProgram } from '../js-firmware-env.ts';

const sensor: JsProgram = async (env) => {
  let period = 0;
  let seq = 0;
  const ept = env.rpmsg.createEndpoint({
    name: 'sensor',
    cb: (data) => {
      const text = new TextDecoder().decode(data).trim();
      if (text === 'stop') period = 0;
      else period = /^\d+$/.test(text) ? Math.max(1, Number(text)) : 100;
    },
  });
  env.trace('sensor: ready');
  while (!env.halting) {
    if (period === 0) {
      await env.sleep(10);
      continue;
    }
    const celsius = 36 + Math.sin(seq / 10) * 2;
    const reading = JSON.stringify({ seq: seq++, t: env.now(), celsius: Math.round(celsius * 100) / 100 });
    ept.trySend(new TextEncoder().encode(reading));
    await env.sleep(period);
  }
};

export default sensor;
