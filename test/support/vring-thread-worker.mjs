// Worker bootstrap for vring-thread.test.ts: tsx's loader does not reach code started with
// `new Worker('./x.ts')` on Node 20 (tsx issue #354), so register it here, then load the TS body.
import { register } from 'tsx/esm/api';

register();
await import('./vring-thread-device.ts');
