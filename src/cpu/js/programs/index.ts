// The bundled js-core firmware programs, by the name a js firmware image's boot record gives.
// Loaded lazily so that a core only evaluates the program it runs.

import type { JsProgram } from '../js-firmware-env.ts';

const PROGRAMS: Readonly<Record<string, () => Promise<{ default: JsProgram }>>> = {
  'rpmsg-echo': () => import('./rpmsg-echo.ts'),
  sensor: () => import('./sensor.ts'),
  crasher: () => import('./crasher.ts'),
  'watchdog-starver': () => import('./watchdog-starver.ts'),
  'console-echo': () => import('./console-echo.ts'),
  sink: () => import('./sink.ts'),
  'multi-echo': () => import('./multi-echo.ts'),
};

export const PROGRAM_NAMES = Object.keys(PROGRAMS);

export async function loadProgram(name: string): Promise<JsProgram | undefined> {
  const load = PROGRAMS[name];
  return load === undefined ? undefined : (await load()).default;
}
