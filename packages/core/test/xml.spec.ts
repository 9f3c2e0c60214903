import { childElement, childElements, childText, escapeXml, parseXml, writeXml, XmlError } from '../src/text/xml';

describe('XML reader', () => {
  it('reads what clients write: declaration, comments, namespaces, CDATA, entities', () => {
    const root = parseXml(
      '\uFEFF<?xml version="1.0"?>\n<!-- c --><p:project xmlns:p="x" a=\'1\'><p:name>a &amp; b &#x41;<![CDATA[<raw>]]></p:name><empty/></p:project>',
    );
    expect(root.name).toBe('p:project');
    expect(root.localName).toBe('project');
    expect(root.attributes).toEqual({ 'xmlns:p': 'x', a: '1' });
    expect(root.children[0].text).toBe('a & b A<raw>');
    expect(childElement(root, 'name')).toBe(root.children[0]);
    expect(childElement(root, 'empty')).toMatchObject({ name: 'empty', children: [], text: '' });
  });

  it('decodes the predefined entities and numeric references, in text and attributes', () => {
    const root = parseXml(`<a t="&quot;&lt;&#65;&#x1F600;&gt;&apos;">&lt;&#233;&#x20AC;&amp;&gt;</a>`);
    expect(root.attributes.t).toBe(`"<A\u{1F600}>'`);
    expect(root.text).toBe('<é€&>');
  });

  it('finds children and their text by local name, whatever the prefix or default namespace', () => {
    const root = parseXml(
      '<package xmlns="http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd"><metadata><id> Acme.Lib </id><n:tag xmlns:n="y">a</n:tag><n:tag xmlns:n="y">b</n:tag></metadata></package>',
    );
    const metadata = childElement(root, 'metadata');
    expect(childText(metadata, 'id')).toBe('Acme.Lib');
    expect(childElements(metadata, 'tag').map((t) => t.text)).toEqual(['a', 'b']);
    expect(childText(metadata, 'missing')).toBeUndefined();
    expect(childElements(undefined, 'tag')).toEqual([]);
  });

  it.each(['<a><b></a>', '<a>', '<a/><b/>', 'text', '<a>&bogus;</a>', '<!DOCTYPE a><a/>', '<a>x & y</a>', ''])('refuses %j', (xml) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
  });

  it.each(['<a>&#0;</a>', '<a>&#x110000;</a>', '<a b="<"/>', '<a/>tail', '<![CDATA[x]]><a/>', '<p:a></q:a>', '<a b=1/>', '<a><!-- open</a>'])('refuses %j', (xml) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
  });

  describe('lenient', () => {
    const lenient = (xml: string) => parseXml(xml, { lenient: true });

    it.each([
      ['an external entity', '<?xml version="1.0"?><!DOCTYPE package [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]><package><id>&xxe;</id></package>'],
      ['billion laughs', `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><package>&lol9;</package>`],
      ['a bare DOCTYPE', '<!DOCTYPE package><package/>'],
      ['an ENTITY declaration outside a DOCTYPE', '<!ENTITY x "y"><package>&x;</package>'],
      ['a declaration inside the root', '<package><!ELEMENT package ANY></package>'],
    ])('refuses %s, as the strict mode does', (_, xml) => {
      expect(() => lenient(xml)).toThrow(new XmlError('DOCTYPE and ENTITY declarations are not accepted at offset ' + xml.indexOf('<!')));
      expect(() => parseXml(xml)).toThrow(/DOCTYPE and ENTITY declarations are not accepted/);
    });

    it('keeps unknown references, out-of-range ones and a bare & as written, and ignores text outside the root', () => {
      const root = lenient('junk<a b="x < y &bogus;">AT&T &nbsp; &#0; &amp;</a>trailing');
      expect(root.attributes.b).toBe('x < y &bogus;');
      expect(root.text).toBe('AT&T &nbsp; &#0; &');
    });

    it.each(['<package><metadata><id>x</id>', '<a></b>', '<a/><b/>', 'no markup', '<a><![CDATA[open</a>'])('still refuses %j', (xml) => {
      expect(() => lenient(xml)).toThrow(XmlError);
    });
  });
});

describe('XML escaper and writer', () => {
  it('escapes markup and drops characters XML 1.0 cannot carry', () => {
    expect(escapeXml(`<a&"'>`)).toBe('&lt;a&amp;&quot;&apos;&gt;');
    expect(escapeXml('a\u0000b\u0008c\uFFFEd\uD800e\tf\u{1F600}')).toBe('abcde\tf\u{1F600}');
  });

  it('writes nested elements that parse back to what was written', () => {
    const xml = writeXml(['metadata', [['groupId', 'a&b'], ['versions', [['version', '1 < 2'], ['version', "it's"]]]], { modelVersion: '1.1.0', q: '"' }]);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<metadata modelVersion="1.1.0" q="&quot;">\n' +
        '  <groupId>a&amp;b</groupId>\n' +
        '  <versions>\n' +
        '    <version>1 &lt; 2</version>\n' +
        '    <version>it&apos;s</version>\n' +
        '  </versions>\n' +
        '</metadata>\n',
    );
    const root = parseXml(xml);
    expect(root.attributes).toEqual({ modelVersion: '1.1.0', q: '"' });
    expect(childText(root, 'groupId')).toBe('a&b');
    expect(childElements(childElement(root, 'versions'), 'version').map((v) => v.text)).toEqual(['1 < 2', "it's"]);
  });
});
