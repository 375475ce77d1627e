// `node scripts/mutation-survivors.mjs NAME [file-substring]`: reads the JSON report of the last
// `npm run mutate -- NAME` (reports/mutation/NAME/mutation.json) and prints the module's counts
// (tested / killed / timeout / survived / no coverage, score = detected / valid), the same per
// file, then every surviving or uncovered mutant as "file:line:column status mutator: original →
// replacement", for reading survivors without the HTML report.
import { readFileSync } from 'node:fs';

const [name, only] = process.argv.slice(2);
if (name === undefined) {
  console.error('usage: node scripts/mutation-survivors.mjs NAME [file-substring]');
  process.exit(2);
}
const report = JSON.parse(readFileSync(`reports/mutation/${name}/mutation.json`, 'utf8'));

const blank = () => ({ tested: 0, Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 });
function count(into, status) {
  if (status in into && status !== 'tested') into[status] += 1;
  else into.other += 1;
  if (['Killed', 'Timeout', 'Survived', 'NoCoverage'].includes(status)) into.tested += 1;
}
function line(label, c) {
  const detected = c.Killed + c.Timeout;
  const score = c.tested === 0 ? 'n/a' : `${((100 * detected) / c.tested).toFixed(2)} %`;
  return `${label}: tested ${c.tested}, killed ${c.Killed}, timeout ${c.Timeout}, survived ${c.Survived}, no coverage ${c.NoCoverage}, score ${score}`;
}

const total = blank();
const rows = [];
const perFile = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const c = blank();
  const lines = source.split('\n');
  for (const m of mutants) {
    count(total, m.status);
    count(c, m.status);
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    if (only !== undefined && !file.includes(only)) continue;
    const { start, end } = m.location;
    const original =
      start.line === end.line
        ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
        : `${lines[start.line - 1].slice(start.column - 1)} …`;
    rows.push(
      `${file}:${start.line}:${start.column} ${m.status} ${m.mutatorName}: ${original.trim()} → ${(m.replacement ?? '').replace(/\s+/g, ' ')}`,
    );
  }
  perFile.push(line(file, c));
}
console.log(line(name, total));
for (const l of perFile) console.log(`  ${l}`);
for (const r of rows) console.log(r);
