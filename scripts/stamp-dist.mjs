// Marks dist/ as built from the current sources: code that can use the compiled JavaScript (the
// rproc command, worker cores) does so only while no source file is newer than this stamp.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/.stamp', import.meta.url), `${new Date().toISOString()}\n`);
