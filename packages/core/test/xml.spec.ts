import { longestHold } from '@stowage/testkit';

import {
  childElement,
  childElements,
  childText,
  escapeXml,
  MAX_XML_ATTRIBUTES,
  MAX_XML_DEPTH,
  parseXml,
  readXml,
  writeXml,
  XmlError,
} from '../src/text/xml';

const MiB = 1024 * 1024;

/** CPU milliseconds `fn` takes (user and system), whatever else the machine is doing. */
function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** Only a flat string (as `Buffer#toString` gives) is what a server parses; a `repeat` result is a rope. */
const flat = (s: string) => Buffer.from(s).toString('utf8');

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

  it.each([
    '<a>&#0;</a>',
    '<a>&#x110000;</a>',
    '<a>&#xD800;</a>',
    '<a b="&#56320;"/>',
    '<a>&#xFFFE;</a>',
    '<a>&#1;</a>',
    '<a b="<"/>',
    '<a/>tail',
    '<![CDATA[x]]><a/>',
    '<p:a></q:a>',
    '<a b=1/>',
    '<a><!-- open</a>',
  ])('refuses %j', (xml) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
  });

  describe('lenient', () => {
    const lenient = (xml: string) => parseXml(xml, { lenient: true });

    it.each([
      [
        'an external entity',
        '<?xml version="1.0"?><!DOCTYPE package [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]><package><id>&xxe;</id></package>',
      ],
      [
        'billion laughs',
        `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><package>&lol9;</package>`,
      ],
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

describe('XML reader limits and cost', () => {
  const nested = (depth: number) => `<a>${'<b>'.repeat(depth - 1)}${'</b>'.repeat(depth - 1)}</a>`;

  it(`takes elements nested ${MAX_XML_DEPTH} deep and refuses one more, at once`, () => {
    expect(parseXml(nested(MAX_XML_DEPTH)).children).toHaveLength(1);
    const tooDeep = new XmlError(`elements are nested more than 256 levels deep at offset ${3 + 255 * 3}`);
    expect(() => parseXml(nested(MAX_XML_DEPTH + 1))).toThrow(tooDeep);
    // A million levels (10 MiB) used to cost 2 s and a tree of a million elements; now it stops at level 257.
    const deep = flat(`<project>${'<a>'.repeat(1_400_000)}${'</a>'.repeat(1_400_000)}</project>`);
    expect(cpuMs(() => expect(() => parseXml(deep)).toThrow(/nested more than 256 levels/))).toBeLessThan(100);
  });

  it(`takes ${MAX_XML_ATTRIBUTES} attributes on an element and refuses more`, () => {
    const attributes = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
    expect(Object.keys(parseXml(`<a${attributes(MAX_XML_ATTRIBUTES)}/>`).attributes)).toHaveLength(MAX_XML_ATTRIBUTES);
    expect(() => parseXml(`<a${attributes(MAX_XML_ATTRIBUTES + 1)}/>`)).toThrow(/^<a> has more than 10000 attributes at offset \d+$/);
  });

  it('knows only the five predefined entities: no name of Object.prototype, and attributes of any name are plain values', () => {
    expect(() => parseXml('<a>&constructor;</a>')).toThrow(new XmlError('bad reference &constructor; at offset 3'));
    expect(parseXml('<a>&toString; &__proto__;</a>', { lenient: true }).text).toBe('&toString; &__proto__;');
    const el = parseXml('<a constructor="c" __proto__="p" toString="t"/>');
    expect(Object.entries(el.attributes)).toEqual([
      ['constructor', 'c'],
      ['__proto__', 'p'],
      ['toString', 't'],
    ]);
    expect(parseXml('<a/>').attributes.constructor).toBeUndefined();
  });

  it('reports where a bad reference or a bare & stands', () => {
    expect(() => parseXml('<a>x &bogus; y</a>')).toThrow(new XmlError('bad reference &bogus; at offset 5'));
    expect(() => parseXml('<a>x & y</a>')).toThrow(new XmlError('bare & in text at offset 5'));
    expect(() => parseXml('<a b="&#x;"/>')).toThrow(new XmlError('bare & in attribute at offset 6'));
    expect(() => parseXml('<a b="1 < 2"/>')).toThrow(new XmlError('< in attribute b at offset 8'));
  });

  it('reads text made mostly of references in one pass, at a small multiple of the cost of copying it', () => {
    // Measured against a copy in the same process, so a busy machine slows both alike.
    const copyMs = (s: string) =>
      cpuMs(() => {
        const out = new Uint16Array(s.length);
        for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      });
    const ampersands = flat(`<package><metadata><description>${'a&'.repeat(2 * MiB)}</description></metadata></package>`);
    const references = flat(`<project><d>${'&lt;&#x41;&amp;'.repeat(MiB / 2)}</d></project>`);
    let root = parseXml(ampersands, { lenient: true });
    parseXml(references);
    copyMs(references);
    // Before: about 200 ns a byte, 60 to 100 times a copy (2.2 s for this nuspec-sized text).
    const ampersandsMs = cpuMs(() => (root = parseXml(ampersands, { lenient: true })));
    expect(ampersandsMs).toBeLessThan(25 * copyMs(ampersands));
    expect(childText(childElement(root, 'metadata'), 'description')).toHaveLength(4 * MiB);
    const referencesMs = cpuMs(() => (root = parseXml(references)));
    expect(referencesMs).toBeLessThan(25 * copyMs(references));
    expect(childText(root, 'd')).toBe('<A&'.repeat(MiB / 2));
  });

  it('readXml gives what parseXml gives, values and errors', async () => {
    const documents = [
      '<?xml version="1.0"?><!-- c --><p:project xmlns:p="x" a=\'1\'><p:name>a &amp; b &#x41;<![CDATA[<raw>]]></p:name></p:project>',
      '<a t="&quot;&lt;&#65;">&lt;&#233;</a>',
      '<a><b></a>',
      '<a>&bogus;</a>',
      '<!DOCTYPE a><a/>',
    ];
    for (const xml of documents) {
      for (const lenient of [false, true]) {
        const sync = (() => {
          try {
            return parseXml(xml, { lenient });
          } catch (err) {
            return err;
          }
        })();
        const sliced = await readXml(xml, { lenient }).catch((err: unknown) => err);
        expect(sliced).toEqual(sync);
      }
    }
  });

  it('readXml lets timers run while it reads a large document', async () => {
    const xml = flat(`<project>${'<v/>'.repeat((10 * MiB) / 4)}</project>`);
    const { result: root, longestMs, ticks } = await longestHold(() => readXml(xml));
    expect(root.children).toHaveLength((10 * MiB) / 4);
    // parseXml holds the loop for the whole read (about half a second); readXml for a slice at a time.
    expect(ticks).toBeGreaterThan(5);
    expect(longestMs).toBeLessThan(150);
  });
});

describe('XML escaper and writer', () => {
  it('escapes markup and drops characters XML 1.0 cannot carry', () => {
    expect(escapeXml(`<a&"'>`)).toBe('&lt;a&amp;&quot;&apos;&gt;');
    expect(escapeXml('a\u0000b\u0008c\uFFFEd\uD800e\tf\u{1F600}')).toBe('abcde\tf\u{1F600}');
  });

  it('writes nested elements that parse back to what was written', () => {
    const xml = writeXml([
      'metadata',
      [
        ['groupId', 'a&b'],
        [
          'versions',
          [
            ['version', '1 < 2'],
            ['version', "it's"],
          ],
        ],
      ],
      { modelVersion: '1.1.0', q: '"' },
    ]);
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
