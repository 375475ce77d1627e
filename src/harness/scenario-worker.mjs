// Worker bootstrap of one scenario run in a development checkout: tsx's loader does not reach code
// started with `new Worker('./x.ts')` on Node 20 (tsx issue #354), so register it here and load
// the TypeScript body. Compiled builds start dist/harness/scenario-worker.js directly instead.
import { register } from 'tsx/esm/api';

register();
await import('./scenario-worker.ts');
