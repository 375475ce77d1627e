// The README's code blocks, each with the marker comment that must precede it:
//   <!-- readme-test: installed -->     run against the installed package (scripts/pack-smoke.mjs):
//                                       a ts block is type-checked and run, an sh block's `npx rproc`
//                                       lines are run; each must succeed
//   <!-- readme-test: output -->        a text block: the exact stdout of the ts block before it
//   <!-- readme-test: skip (why) -->    not run, for the reason given (e.g. checkout-only commands)
// test/readme-blocks.test.ts checks that every block has one, so none can drift unnoticed.

const MARKER = /^<!--\s*readme-test:\s*(installed|output|skip)\b\s*(.*?)\s*-->$/;

/** The blocks in order (types: readme-blocks.d.mts). */
export function readmeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  let marker;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = MARKER.exec(line.trim());
    if (m !== null) {
      marker = { mode: m[1], note: m[2] ?? '' };
      continue;
    }
    const fence = /^```(\S*)/.exec(line);
    if (fence === null) {
      if (line.trim() !== '') marker = undefined;
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] ?? '').startsWith('```')) end++;
    const block = {
      lang: fence[1] ?? '',
      code: lines.slice(start, end).join('\n') + '\n',
      line: i + 1,
      mode: marker?.mode,
      note: marker?.note ?? '',
    };
    if (block.mode === 'output') {
      const prev = blocks.at(-1);
      if (prev !== undefined && prev.mode === 'installed' && prev.lang === 'ts') prev.output = block.code;
    }
    blocks.push(block);
    marker = undefined;
    i = end;
  }
  return blocks;
}
