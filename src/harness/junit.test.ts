// JUnit XML: the structure CI servers read (counts, testcase attributes, failure/error, system-out),
// and escaping that keeps any text — markup characters, NUL and other controls, lone surrogates —
// well-formed XML 1.0 whose content reads back as the text with the impossible characters made
// visible (property, checked by a small strict XML reader).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classnameOf, junitXml, visibleXmlChars, xmlAttr, xmlText } from './junit.ts';

interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const XML_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function unescape(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e] ?? '';
  });
}

/** A strict reader for the XML subset the writer emits; throws on anything not well formed. */
function readXml(xml: string): XmlElement {
  assert.ok(XML_CHAR.test(xml), 'only XML 1.0 characters');
  let s = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (s.length > 0) {
    if (s.startsWith('</')) {
      const m = /^<\/([A-Za-z-]+)>/.exec(s);
      assert.ok(m !== null, `bad end tag at ${s.slice(0, 20)}`);
      const open = stack.pop();
      assert.equal(open?.name, m[1], 'tags nest');
      s = s.slice(m[0].length);
    } else if (s.startsWith('<')) {
      const m =
        /^<([A-Za-z-]+)((?:\s+[A-Za-z-]+="[^"<&]*(?:&(?:#\d+|lt|gt|amp|quot|apos);[^"<&]*)*")*)\s*(\/?)>/.exec(
          s,
        );
      assert.ok(m !== null, `bad start tag at ${s.slice(0, 40)}`);
      const attrs: Record<string, string> = {};
      for (const a of (m[2] ?? '').matchAll(/([A-Za-z-]+)="([^"]*)"/g)) {
        assert.ok(!((a[1] ?? '') in attrs), 'no duplicate attribute');
        attrs[a[1] ?? ''] = unescape(a[2] ?? '');
      }
      const el: XmlElement = { name: m[1] ?? '', attrs, children: [], text: '' };
      const parent = stack.at(-1);
      if (parent === undefined) {
        assert.equal(root, undefined, 'one root element');
        root = el;
      } else parent.children.push(el);
      if (m[3] !== '/') stack.push(el);
      s = s.slice(m[0].length);
    } else {
      const m = /^[^<]+/.exec(s);
      const raw = m?.[0] ?? '';
      assert.ok(!/&(?!(#\d+|lt|gt|amp|quot|apos);)/.test(raw), 'every & starts an entity');
      assert.ok(!raw.includes('>'), 'no bare >');
      const parent = stack.at(-1);
      if (parent === undefined) assert.match(raw, /^\s*$/, 'nothing but space outside the root');
      else parent.text += unescape(raw);
      s = s.slice(raw.length);
    }
  }
  assert.equal(stack.length, 0, 'every element closed');
  assert.ok(root !== undefined);
  return root;
}

const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '<',
      '>',
      '&',
      '"',
      "'",
      '\u0000',
      '\u001b',
      '\t',
      '\n',
      '\r',
      '\ud800',
      '\udfff',
      '\ufffe',
      '\uffff',
      ']]>',
      '😀',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 60,
});

describe('JUnit XML', () => {
  it('writes the counts, cases, failure, error and system-out CI servers read', () => {
    const xml = junitXml(
      [
        {
          name: 'rproc test',
          timestamp: new Date('2026-01-02T03:04:05.678Z'),
          cases: [
            {
              name: 'echo works',
              classname: 'examples.pass',
              file: 'examples/pass.yaml',
              time: 0.5,
              systemOut: 'rproc0 uart: up\n',
            },
            {
              name: 'echo fails',
              classname: 'examples.fail',
              file: 'examples/fail.yaml',
              time: 1.25,
              failure: {
                message: 'ETIMEDOUT: expected "x"',
                type: 'expect-timeout',
                text: 'at examples/fail.yaml:9\nlast lines: ...',
              },
              systemOut: 'tail',
            },
            {
              name: 'broken',
              classname: 'examples.broken',
              time: -1,
              error: { message: 'EIO: bug', type: 'error', text: '' },
            },
          ],
        },
      ],
      'rproc test',
    );
    const root = readXml(xml);
    assert.equal(root.name, 'testsuites');
    assert.deepEqual(
      {
        tests: root.attrs['tests'],
        failures: root.attrs['failures'],
        errors: root.attrs['errors'],
        time: root.attrs['time'],
      },
      { tests: '3', failures: '1', errors: '1', time: '1.750' },
    );
    const suite = root.children[0];
    assert.equal(suite?.name, 'testsuite');
    assert.equal(suite.attrs['timestamp'], '2026-01-02T03:04:05');
    const [pass, fail, broken] = suite.children;
    assert.deepEqual(pass?.attrs, {
      name: 'echo works',
      classname: 'examples.pass',
      file: 'examples/pass.yaml',
      time: '0.500',
    });
    assert.deepEqual(
      pass.children.map((c) => [c.name, c.text]),
      [['system-out', 'rproc0 uart: up\n']],
    );
    const failure = fail?.children.find((c) => c.name === 'failure');
    assert.deepEqual(failure?.attrs, { message: 'ETIMEDOUT: expected "x"', type: 'expect-timeout' });
    assert.equal(failure.text, 'at examples/fail.yaml:9\nlast lines: ...');
    assert.equal(broken?.attrs['time'], '0.000', 'a negative duration is clamped');
    assert.deepEqual(
      broken.children.map((c) => c.name),
      ['error'],
    );
  });

  it('keeps any text well formed and readable back (property)', () => {
    fc.assert(
      fc.property(nasty, nasty, nasty, (name, message, out) => {
        const xml = junitXml([
          {
            name: 's',
            cases: [
              { name, classname: 'c', time: 1, failure: { message, type: 't', text: out }, systemOut: out },
            ],
          },
        ]);
        const root = readXml(xml);
        const tc = root.children[0]?.children[0];
        assert.equal(tc?.attrs['name'], visibleXmlChars(name));
        assert.equal(tc.children[0]?.attrs['message'], visibleXmlChars(message));
        assert.equal(tc.children[1]?.text, visibleXmlChars(out));
      }),
    );
  });

  it('shows NUL and escape as caret notation, lone surrogates as U+FFFD', () => {
    assert.equal(visibleXmlChars('a\u0000b\u001b[0m\ud800c'), 'a^@b^[[0m\ufffdc');
    assert.equal(xmlText('<a & b>'), '&lt;a &amp; b&gt;');
    assert.equal(xmlAttr('say "hi"\n'), 'say &quot;hi&quot;&#10;');
  });

  it('makes dotted class names from file paths', () => {
    assert.equal(classnameOf('examples/echo-pass.yaml'), 'examples.echo-pass');
    assert.equal(classnameOf('./ci/board.v2/smoke.json'), 'ci.board.v2.smoke');
  });
});
