// A small XML writer and a tolerant reader: enough for maven-metadata.xml and POMs, with
// no dependency. The reader accepts what real clients write (declaration, comments, CDATA,
// namespaces, DOCTYPE-free documents) and refuses anything that is not well-formed.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);
}

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, ref?: string) => {
    if (!ref) throw new XmlError('bare & in text');
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlError(`unknown entity ${whole}`);
    return v;
  });
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ATTRIBUTE = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/;

/** Parses a whole document into its root element; throws XmlError when it is not well-formed. */
export function parseXml(input: string): XmlElement {
  const s = input.replace(/^\uFEFF/, '');
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${pos}`);
  };
  while (pos < s.length) {
    const lt = s.indexOf('<', pos);
    const text = s.slice(pos, lt === -1 ? s.length : lt);
    if (text.trim()) {
      if (!stack.length) fail('text outside the root element');
      stack[stack.length - 1].text += decode(text);
    }
    if (lt === -1) break;
    pos = lt;
    if (s.startsWith('<?', pos)) {
      const end = s.indexOf('?>', pos);
      if (end === -1) fail('unterminated processing instruction');
      pos = end + 2;
    } else if (s.startsWith('<!--', pos)) {
      const end = s.indexOf('-->', pos);
      if (end === -1) fail('unterminated comment');
      pos = end + 3;
    } else if (s.startsWith('<![CDATA[', pos)) {
      const end = s.indexOf(']]>', pos);
      if (end === -1 || !stack.length) fail('misplaced CDATA');
      stack[stack.length - 1].text += s.slice(pos + 9, end);
      pos = end + 3;
    } else if (s.startsWith('<!', pos)) {
      fail('DOCTYPE and declarations are not accepted');
    } else if (s.startsWith('</', pos)) {
      const m = NAME.exec(s.slice(pos + 2));
      if (!m) fail('bad closing tag');
      const open = stack.pop();
      if (!open || open.name !== m![0]) fail(`</${m![0]}> does not close <${open?.name ?? ''}>`);
      pos += 2 + m![0].length;
      const close = /^\s*>/.exec(s.slice(pos));
      if (!close) fail('bad closing tag');
      pos += close![0].length;
    } else {
      const m = NAME.exec(s.slice(pos + 1));
      if (!m) fail('bad tag');
      const el: XmlElement = { name: m![0], attributes: {}, children: [], text: '' };
      pos += 1 + m![0].length;
      for (;;) {
        const a = ATTRIBUTE.exec(s.slice(pos, pos + 4096));
        if (!a) break;
        el.attributes[a[1]] = decode(a[3] ?? a[4] ?? '');
        pos += a[0].length;
      }
      const end = /^\s*(\/?)>/.exec(s.slice(pos, pos + 64));
      if (!end) fail(`bad tag <${el.name}>`);
      pos += end![0].length;
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) fail('more than one root element');
      else root = el;
      if (!end![1]) stack.push(el);
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is not closed`);
  if (!root) fail('no root element');
  return root!;
}

/** The local part of a (possibly prefixed) element name. */
const local = (name: string) => name.slice(name.indexOf(':') + 1);

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => local(c.name) === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => local(c.name) === name) : [];
}

export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c ? c.text.trim() : undefined;
}

/** Writes XML from nested [name, content] pairs; strings are escaped. */
export type XmlNode = [name: string, content: string | XmlNode[], attributes?: Record<string, string>];

export function writeXml(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const walk = ([name, content, attrs]: XmlNode, indent: string) => {
    const a = attrs ? Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('') : '';
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
