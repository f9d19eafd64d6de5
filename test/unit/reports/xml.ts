// Shared by the report tests: a strict check that a chart's SVG is a well-formed XML document.
import assert from 'node:assert/strict';

/** Strict XML well-formedness: balanced tags, one root, quoted unique attributes, known entities. */
export function assertWellFormedXml(xml: string): void {
  const badEntity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i;
  const token =
    /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  const stack: string[] = [];
  let roots = 0;
  for (const m of xml.matchAll(token)) {
    assert.equal(m[6], undefined, `stray "<" at ${m.index}: ${xml.slice(m.index, m.index! + 40)}`);
    if (m[5] !== undefined) {
      assert.ok(!badEntity.test(m[5]), `bad entity in text: ${m[5].slice(0, 40)}`);
      assert.ok(stack.length > 0 || m[5].trim() === '', 'text outside the root');
      continue;
    }
    if (!m[2]) continue;
    if (m[1]) {
      assert.equal(stack.pop(), m[2], `unbalanced </${m[2]}>`);
      continue;
    }
    const names = [...m[3].matchAll(/([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')/g)].map((a) => {
      assert.ok(!badEntity.test(a[2]), `bad entity in attribute ${a[1]}`);
      return a[1];
    });
    assert.equal(new Set(names).size, names.length, `duplicate attribute on <${m[2]}>`);
    if (stack.length === 0) roots++;
    if (!m[4]) stack.push(m[2]);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}
