// A small XML reader, escaper and writer with no dependency: enough for the documents formats
// read and write (POMs, maven-metadata.xml, .nuspec files, OData/Atom feeds). The reader takes
// what real clients write: a declaration, comments, CDATA, the predefined and numeric character
// references, namespace prefixes (children are looked up by local name). A DOCTYPE or any other
// declaration (`<!ENTITY`, `<!ELEMENT`) is refused in both modes: no entity is ever expanded and
// no external reference followed (NuGet's own client refuses DTDs in a .nuspec too).
//
// Why not saxes (a dependency of core): it reads the strict documents the same, but it cannot do
// the lenient mode. Tried with saxes 6.0.0, errors reported and parsing continued: a bare `&`
// swallows the rest of the document (`<a>AT&T</a>` gives the text "AT" and "unclosed tag: a",
// `<d>x &</d>` the same), and `<` in an attribute value is dropped. Nuspecs that GitLab accepts
// (Nokogiri recovers) with such text would be refused, so this reader stays.

export interface XmlElement {
  /** The name as written, prefix included (`p:project`). */
  name: string;
  /** The name without its namespace prefix (`project`). */
  localName: string;
  /** Attribute values by name as written (`xmlns:p`, `id`). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text, CDATA included and references decoded. */
  text: string;
}

export class XmlError extends Error {}

export interface XmlReadOptions {
  /**
   * Read the way recovering parsers do (GitLab reads nuspec files with Nokogiri): unknown
   * references and a bare `&` are kept as written, text outside the root is ignored and
   * attribute values may hold `<`. Otherwise all of these are an XmlError. A DOCTYPE is
   * refused either way.
   */
  lenient?: boolean;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text and attribute values. Characters XML 1.0 cannot carry are dropped. */
export function escapeXml(value: string): string {
  return value.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function decode(text: string, lenient: boolean): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref?: string) => {
    let value: string | undefined;
    if (ref?.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (code > 0 && code <= 0x10ffff) value = String.fromCodePoint(code);
    } else if (ref) {
      value = ENTITIES[ref];
    }
    if (value !== undefined) return value;
    if (lenient) return whole;
    throw new XmlError(ref ? `bad reference ${whole}` : 'bare & in text');
  });
}

const NAME = /[A-Za-z_:\u00C0-\uFFFF][\w.:\u00B7-\uFFFF-]*/y;
const ATTRIBUTE = /\s+([A-Za-z_:\u00C0-\uFFFF][\w.:\u00B7-\uFFFF-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const START_TAG_END = /\s*(\/?)>/y;
const END_TAG_END = /\s*>/y;

const localNameOf = (name: string) => name.slice(name.indexOf(':') + 1);

/** Parses a whole document into its root element; XmlError when it cannot be read. */
export function parseXml(input: string, options: XmlReadOptions = {}): XmlElement {
  const lenient = options.lenient ?? false;
  const s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let pos = 0;
  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${pos}`);
  };
  const sticky = (re: RegExp) => {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m) pos = re.lastIndex;
    return m;
  };
  /** Text or CDATA: the open element's, refused (or, lenient, ignored) outside the root. */
  const addText = (text: string) => {
    if (stack.length) stack[stack.length - 1].text += text;
    else if (text.trim() && !lenient) fail('text outside the root element');
  };

  while (pos < s.length) {
    const lt = s.indexOf('<', pos);
    const text = s.slice(pos, lt === -1 ? s.length : lt);
    if (text) addText(decode(text, lenient));
    if (lt === -1) break;
    pos = lt;
    if (s.startsWith('<?', pos)) {
      const end = s.indexOf('?>', pos);
      if (end === -1) fail('unterminated processing instruction');
      pos = end + 2;
    } else if (s.startsWith('<!--', pos)) {
      const end = s.indexOf('-->', pos + 4);
      if (end === -1) fail('unterminated comment');
      pos = end + 3;
    } else if (s.startsWith('<![CDATA[', pos)) {
      const end = s.indexOf(']]>', pos + 9);
      if (end === -1) fail('unterminated CDATA section');
      if (!stack.length && !lenient) fail('CDATA outside the root element');
      addText(s.slice(pos + 9, end));
      pos = end + 3;
    } else if (s.startsWith('<!', pos)) {
      fail('DOCTYPE and ENTITY declarations are not accepted');
    } else if (s.startsWith('</', pos)) {
      pos += 2;
      const name = sticky(NAME)?.[0] ?? fail('bad end tag');
      const open = stack.pop();
      if (!open || open.name !== name) fail(`</${name}> does not close <${open?.name ?? ''}>`);
      if (!sticky(END_TAG_END)) fail(`bad end tag </${name}>`);
    } else {
      pos += 1;
      const name = sticky(NAME)?.[0] ?? fail('bad start tag');
      const el: XmlElement = { name, localName: localNameOf(name), attributes: {}, children: [], text: '' };
      for (let a = sticky(ATTRIBUTE); a; a = sticky(ATTRIBUTE)) {
        const value = a[2] ?? a[3];
        if (!lenient && value.includes('<')) fail(`< in attribute ${a[1]}`);
        el.attributes[a[1]] = decode(value, lenient);
      }
      const end = sticky(START_TAG_END) ?? fail(`bad start tag <${name}>`);
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) fail('more than one root element');
      else root = el;
      if (!end[1]) stack.push(el);
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is not closed`);
  return root ?? fail('no root element');
}

/** The first child with this local name. */
export function childElement(el: XmlElement | undefined, localName: string): XmlElement | undefined {
  return el?.children.find((c) => c.localName === localName);
}

/** Every child with this local name. */
export function childElements(el: XmlElement | undefined, localName: string): XmlElement[] {
  return el ? el.children.filter((c) => c.localName === localName) : [];
}

/** The trimmed text of the first child with this local name; undefined when there is none. */
export function childText(el: XmlElement | undefined, localName: string): string | undefined {
  return childElement(el, localName)?.text.trim();
}

/** An element to write: a name, then its text (escaped) or its children, then attributes. */
export type XmlNode = [name: string, content: string | XmlNode[], attributes?: Record<string, string>];

/** Writes a document, two-space indented, with an XML declaration. */
export function writeXml(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const walk = ([name, content, attributes]: XmlNode, indent: string) => {
    const a = attributes ? Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('') : '';
    if (typeof content === 'string') {
      out.push(`${indent}<${name}${a}>${escapeXml(content)}</${name}>\n`);
      return;
    }
    out.push(`${indent}<${name}${a}>\n`);
    for (const c of content) walk(c, `${indent}  `);
    out.push(`${indent}</${name}>\n`);
  };
  walk(root, '');
  return out.join('');
}
