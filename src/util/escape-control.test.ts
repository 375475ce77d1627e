// escapeControl: every control character and direction override becomes a visible escape; printable
// text, tabs and non-Latin scripts pass unchanged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeControl } from './escape-control.ts';

describe('escapeControl', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    ['plain text', 'echo: 42 messages', 'echo: 42 messages'],
    ['tab kept', 'a\tb', 'a\tb'],
    ['ESC sequence (clear screen)', '\x1b[2Jgone', '\\x1b[2Jgone'],
    ['carriage return', 'ok\rFAIL', 'ok\\rFAIL'],
    ['newline', 'a\nb', 'a\\nb'],
    ['NUL and BEL', '\x00\x07', '\\x00\\x07'],
    ['last C0 (0x1f), space kept', '\x1f ', '\\x1f '],
    ['DEL and C1 CSI (0x9b)', '\x7f\x9b', '\\x7f\\x9b'],
    ['first printable after C1 (0xa0) kept', '\xa0é', '\xa0é'],
    ['right-to-left override', 'abc\u202edef', 'abc\\u202edef'],
    ['isolates and marks', '\u2066\u2069\u200e\u061c', '\\u2066\\u2069\\u200e\\u061c'],
    ['other scripts kept', 'καλημέρα 日本', 'καλημέρα 日本'],
    ['backslash kept', 'C:\\fw', 'C:\\fw'],
  ];
  for (const [what, input, output] of cases) {
    it(what, () => assert.equal(escapeControl(input), output));
  }
  it('the output never contains a control character, whatever the input', () => {
    let all = '';
    for (let c = 0; c < 0x300; c++) all += String.fromCodePoint(c);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(escapeControl(all), /[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
  });
});
