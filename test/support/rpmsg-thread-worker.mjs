// Worker bootstrap for the thread loopback: tsx's loader does not reach code started with
// `new Worker('./x.ts')` on Node 20 (tsx issue #354), so register it here, then load the TS body.
import { register } from 'tsx/esm/api';

register();
await import('./rpmsg-thread-remote.ts');
