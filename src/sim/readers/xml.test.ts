import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TraceError } from './errors.ts';
import { parseXml } from './xml.ts';

function errorFrom(text: string): TraceError {
  try {
    parseXml(text, 'doc.xml');
  } catch (error) {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TraceError');
}

test('elements, attributes in either quote, self-closing tags, comments, declaration and text', () => {
  const root = parseXml([
    '<?xml version="1.0"?>',
    '<!-- <not-an-element/> -->',
    "<a x='1' y = \"two words\">",
    '  hello &amp; &lt;bye&gt; &#65;&#x42;',
    '  <b/><c\n    z="3"></c>',
    '  <![CDATA[<raw>]]>',
    '</a>',
  ].join('\n'), 'doc.xml');
  assert.equal(root.name, 'a');
  assert.equal(root.line, 3);
  assert.deepEqual([...root.attributes], [['x', '1'], ['y', 'two words']]);
  assert.deepEqual(root.children.map((child) => [child.name, child.line]), [['b', 5], ['c', 5]]);
  assert.equal(root.children[1].attributes.get('z'), '3');
  assert.match(root.text, /hello & <bye> AB/);
  assert.match(root.text, /<raw>/);
});

test('structural mistakes are errors on the right line', () => {
  const cases: [string, number, RegExp][] = [
    ['<a>\n  <b>\n</a>', 3, /closing tag <\/a> does not match <b> opened at line 2; close <b> with <\/b> first/],
    ['<a>\n  <b>\n  </b>\n', 1, /<a> is never closed; add <\/a>/],
    ['<a>\n<b x="1"', 2, /tag <b> is never closed by '>'/],
    ['<a>\n\n<b x="1>\n</a><c y="2"/>', 3, /the value of attribute x of <b> contains '<'/],
    ['<a>\n\n<b x="1>\n</a>', 3, /the value of attribute x of <b> is never closed by "/],
    ['<a>\n<b x=1/></a>', 2, /the value of attribute x of <b> is not quoted/],
    ['<a>\n<b x/></a>', 2, /attribute x of <b> has no value/],
    ['<a>\n<b x="1" x="2"/></a>', 2, /attribute x appears twice/],
    ['<a>\n<!-- never closed\n</a>', 2, /comment is never closed/],
    ['<a></a>\n<b></b>', 2, /second root element <b> \(the first is <a> at line 1\)/],
    ['<a></a>\nstray', 2, /text outside the root element/],
    ['<a>\n1 < 2</a>', 2, /'<' is not followed by a tag name/],
    ['<a>\n\nfish &chips;</a>', 3, /unknown entity "&chips;"/],
    ['</a>', 1, /closing tag <\/a> has no opening tag/],
    ['<!DOCTYPE a>\n<a/>', 1, /DOCTYPE/],
  ];
  for (const [text, line, expected] of cases) {
    const error = errorFrom(text);
    assert.equal(error.line, line, text);
    assert.match(error.message, new RegExp(`^doc\\.xml:${line}: ${expected.source}`), text);
  }
  assert.equal(errorFrom('<!-- only a comment -->').line, null);
});

// The characters markup gives meaning to, and some it does not.
const ATTRIBUTE_CHARACTERS = fc.constantFrom('a', 'Z', '0', ' ', '<', '>', '&', '"', "'", ';', '#', '=', '/',
  '\n', '\t', '\r', 'é', '€', '😀');

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

test('property: any attribute value survives escaping and parsing, line breaks read as spaces', () => {
  fc.assert(fc.property(fc.string({ unit: ATTRIBUTE_CHARACTERS, maxLength: 40 }), fc.nat(3), (value, blankLines) => {
    const root = parseXml(`${'\n'.repeat(blankLines)}<r>\n<e v="${escapeAttribute(value)}"/></r>`, 'p.xml');
    assert.equal(root.children[0].attributes.get('v'), value.replace(/[\t\r\n]/g, ' '));
    assert.equal(root.children[0].line, blankLines + 2);
  }));
});
