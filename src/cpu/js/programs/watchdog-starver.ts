// watchdog-starver: arms a 100 ms watchdog and kicks it while it echoes; the command "starve"
// (or the first message, if it says so) makes it stop kicking, so the watchdog bites.

import type { JsProgram } from '../js-firmware-env.ts';

const starver: JsProgram = async (env) => {
  // Set from the endpoint callback; an object so the loop below re-reads it.
  const state = { starving: false };
  env.rpmsg.createEndpoint({
    name: 'watchdog',
    cb: (data, src, ept) => {
      if (new TextDecoder().decode(data).trim() === 'starve') state.starving = true;
      else ept.trySendTo(src, data);
    },
  });
  env.watchdog.start(100);
  env.trace('watchdog-starver: armed, 100 ms');
  while (!env.halting) {
    if (!state.starving) env.watchdog.kick();
    await env.sleep(20);
  }
};

export default starver;
