// A small XML reader, escaper and writer with no dependency: enough for the documents formats
// read and write (POMs, maven-metadata.xml, .nuspec files, OData/Atom feeds). The reader takes
// what real clients write: a declaration, comments, CDATA, the predefined and numeric character
// references, namespace prefixes (children are looked up by local name). A DOCTYPE or any other
// declaration (`<!ENTITY`, `<!ELEMENT`) is refused in both modes: no entity is ever expanded and
// no external reference followed (NuGet's own client refuses DTDs in a .nuspec too).
//
// Why not a library: checked again with saxes 6.0.0 and fast-xml-parser 5.12.1. saxes reads the
// strict documents the same but cannot do the lenient mode: with errors reported and parsing
// continued, a bare `&` swallows the rest of the document (`<title>AT&T</title>` gives the text
// "AT" and "unclosed tag"), `<` in an attribute value is dropped (`a="1<2"` gives "12") and
// `&nbsp;` is an error. fast-xml-parser is lenient the way Nokogiri is (`AT&T`, `1<2`, `&nbsp;`
// kept, text after the root ignored) but has no strict mode: its separate XMLValidator passes
// `<a x="1<2"/>`, and its parser takes `<a><b></a>`; with processEntities on it expands an
// entity declared in an internal DOCTYPE (`&e;` became "boom") instead of refusing it, and
// `&#65;` stays undecoded. It reads a document in one synchronous call, with no pause for the
// event loop: 10 MiB of `<v/>` took 18 s on the (busy) test host, where this reader takes ~0.5 s
// with the tree, in slices. So this reader stays, for both modes.
//
// Limits on what a client may make it do: nesting as deep as libxml2 allows (256), attributes
// per element as the JDK allows (10,000); the documents themselves are capped by the callers
// (a nuspec at 4 MiB, as GitLab; a POM or maven-metadata.xml at formats.maven.max_metadata_size).
// What clients upload is read with `readXml`, in slices of the event loop.

import { TimeSlice } from '../time-slice';

export interface XmlElement {
  /** The name as written, prefix included (`p:project`). */
  readonly name: string;
  /** The name without its namespace prefix (`project`). */
  readonly localName: string;
  /** Attribute values by name as written (`xmlns:p`, `id`); no prototype, so `constructor` is only an attribute. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, CDATA included and references decoded. */
  readonly text: string;
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

/** libxml2's default (Nokogiri, so GitLab, refuses deeper documents): no POM, metadata or nuspec comes near it. */
export const MAX_XML_DEPTH = 256;
/** The JDK's `jdk.xml.elementAttributeLimit` (Xerces): real elements carry a handful. */
export const MAX_XML_ATTRIBUTES = 10_000;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text and attribute values. Characters XML 1.0 cannot carry are dropped. */
export function escapeXml(value: string): string {
  return value.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// Character classes by UTF-16 code unit, as the reader has always read them: a name starts with
// [A-Za-z_:\u00C0-\uFFFF] and goes on with [\w.:\u00B7-\uFFFF-]; white space is JavaScript's \s.
const isNameStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0xc0;
const isNameChar = (c: number) => isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c >= 0xb7;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
/** XML's Char production: a reference to anything else (`&#0;`, `&#xD800;`, `&#xFFFE;`) is not well-formed. */
const isXmlChar = (c: number) =>
  c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
/** A hex digit's value, -1 for any other character. */
const hexValue = (c: number) => (isDigit(c) ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);
const isLetter = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && /\s/.test(String.fromCharCode(c)));

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const SEMICOLON = 0x3b;
const HASH = 0x23;
const AMP = 0x26;

/** The first `length` code units of `codes` as a string, in pieces small enough to pass as arguments. */
function fromCharCodes(codes: Uint16Array, length: number): string {
  const pieces: string[] = [];
  for (let at = 0; at < length; at += 8192) {
    pieces.push(String.fromCharCode.apply(null, codes.subarray(at, Math.min(at + 8192, length)) as unknown as number[]));
  }
  return pieces.join('');
}

const UNKNOWN = -1;
const NOT_A_REFERENCE = -2;

/** The character `&amp;`, `&lt;`, `&gt;`, `&quot;` or `&apos;` stands for, by the name in `s[start, end)`; UNKNOWN for any other name. */
function predefinedEntity(s: string, start: number, end: number): number {
  const c0 = s.charCodeAt(start);
  switch (end - start) {
    case 2:
      if (s.charCodeAt(start + 1) !== 0x74 /* t */) return UNKNOWN;
      return c0 === 0x6c /* l */ ? LT : c0 === 0x67 /* g */ ? GT : UNKNOWN;
    case 3:
      return s.startsWith('amp', start) ? AMP : UNKNOWN;
    case 4:
      return s.startsWith('quot', start) ? 0x22 : s.startsWith('apos', start) ? 0x27 : UNKNOWN;
    default:
      return UNKNOWN;
  }
}

/** What elements share until they get an attribute or a child: most have neither. */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);
const NO_CHILDREN: readonly XmlElement[] = Object.freeze([]);

/** An element while it is being read. */
interface OpenElement {
  name: string;
  localName: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * One pass over the document by character code (the regular-expression reader it replaced
 * spent about 200 ns a byte; this one is linear with a small constant): `indexOf` finds the
 * next markup, text is copied once, and only a text with a reference in it is rebuilt.
 */
class XmlReader {
  private pos = 0;
  /**
   * The first `&` and `<` at or after the last place each was looked for (s.length when none):
   * each is searched for once as the reader moves on, never again from every text or attribute.
   */
  private nextAmp = -1;
  private nextLt = -1;
  /** Names read so far, reused rather than copied again (a document names few elements many times). */
  private readonly names: string[] = [];
  /** Where the reference `reference()` last read ends. */
  private referenceEnd = 0;
  private readonly stack: OpenElement[] = [];
  private root: XmlElement | undefined;

  constructor(
    private readonly s: string,
    private readonly lenient: boolean,
  ) {}

  private fail(why: string, at = this.pos): never {
    throw new XmlError(`${why} at offset ${at}`);
  }

  /** Reads on until the document ends (true) or `slice` says the time is up (false). */
  read(slice?: TimeSlice): boolean {
    const s = this.s;
    while (this.pos < s.length) {
      if (slice?.due()) return false;
      const lt = this.ltFrom(this.pos);
      if (lt > this.pos) this.addText(this.decoded(this.pos, lt, 'text'));
      if (lt === s.length) break;
      this.pos = lt;
      this.markup();
    }
    this.pos = s.length;
    return true;
  }

  /** The root element of a document read to its end. */
  document(): XmlElement {
    if (this.stack.length) this.fail(`<${this.stack[this.stack.length - 1].name}> is not closed`);
    return this.root ?? this.fail('no root element');
  }

  /** Whatever starts with the `<` at `pos`. */
  private markup(): void {
    const s = this.s;
    const next = s.charCodeAt(this.pos + 1);
    if (next === 0x3f /* ? */) {
      this.pos = this.after('?>', this.pos + 2, 'unterminated processing instruction');
    } else if (next === 0x21 /* ! */) {
      if (s.startsWith('<!--', this.pos)) {
        this.pos = this.after('-->', this.pos + 4, 'unterminated comment');
      } else if (s.startsWith('<![CDATA[', this.pos)) {
        const end = s.indexOf(']]>', this.pos + 9);
        if (end === -1) this.fail('unterminated CDATA section');
        if (!this.stack.length && !this.lenient) this.fail('CDATA outside the root element');
        this.addText(s.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else {
        this.fail('DOCTYPE and ENTITY declarations are not accepted');
      }
    } else if (next === SLASH) {
      this.endTag();
    } else {
      this.startTag();
    }
  }

  /** Where `terminator` ends, looking from `from`; `unterminated` when it never comes. */
  private after(terminator: string, from: number, unterminated: string): number {
    const end = this.s.indexOf(terminator, from);
    return end === -1 ? this.fail(unterminated) : end + terminator.length;
  }

  /** The name at `pos` (moved past it), or undefined when none starts there. */
  private name(): string | undefined {
    const s = this.s;
    const start = this.pos;
    if (!isNameStart(s.charCodeAt(start))) return undefined;
    let end = start + 1;
    while (end < s.length && isNameChar(s.charCodeAt(end))) end++;
    this.pos = end;
    const length = end - start;
    for (const known of this.names) {
      if (known.length === length && s.startsWith(known, start)) return known;
    }
    const name = s.slice(start, end);
    if (this.names.length < 64) this.names.push(name);
    return name;
  }

  private skipSpace(): number {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
    return this.pos - start;
  }

  private endTag(): void {
    const s = this.s;
    this.pos += 2;
    const open = this.stack.pop();
    // Compared in place: the name is not copied out of the document.
    const nameEnd = this.pos + (open?.name.length ?? 0);
    if (!isNameStart(s.charCodeAt(this.pos))) this.fail('bad end tag');
    if (!open || !s.startsWith(open.name, this.pos) || (nameEnd < s.length && isNameChar(s.charCodeAt(nameEnd)))) {
      const name = this.name();
      this.fail(`</${name}> does not close <${open?.name ?? ''}>`);
    }
    this.pos = nameEnd;
    this.skipSpace();
    if (s.charCodeAt(this.pos) !== GT) this.fail(`bad end tag </${open.name}>`);
    this.pos++;
  }

  private startTag(): void {
    const s = this.s;
    const tagStart = this.pos;
    this.pos += 1;
    const name = this.name() ?? this.fail('bad start tag');
    const localName = name.slice(name.indexOf(':') + 1);
    const el: OpenElement = { name, localName, attributes: NO_ATTRIBUTES, children: NO_CHILDREN as XmlElement[], text: '' };
    for (let count = 0; this.attribute(el); count++) {
      if (count === MAX_XML_ATTRIBUTES) this.fail(`<${name}> has more than ${MAX_XML_ATTRIBUTES} attributes`);
    }
    this.skipSpace();
    let selfClosing = false;
    if (s.charCodeAt(this.pos) === SLASH) {
      selfClosing = true;
      this.pos++;
    }
    if (s.charCodeAt(this.pos) !== GT) this.fail(`bad start tag <${name}>`);
    this.pos++;
    if (this.stack.length >= MAX_XML_DEPTH) this.fail(`elements are nested more than ${MAX_XML_DEPTH} levels deep`, tagStart);
    const parent = this.stack[this.stack.length - 1];
    if (parent) {
      if (parent.children === NO_CHILDREN) parent.children = [el];
      else parent.children.push(el);
    } else if (this.root) {
      this.fail('more than one root element');
    } else {
      this.root = el;
    }
    if (selfClosing) return;
    this.stack.push(el);
  }

  /** One ` name="value"` of a start tag, added to `el`; false (nothing consumed) when there is none. */
  private attribute(el: OpenElement): boolean {
    const s = this.s;
    const start = this.pos;
    const none = () => {
      this.pos = start;
      return false;
    };
    if (!this.skipSpace()) return false;
    const name = this.name();
    if (name === undefined) return none();
    this.skipSpace();
    if (s.charCodeAt(this.pos) !== EQUALS) return none();
    this.pos++;
    this.skipSpace();
    const quote = s[this.pos];
    if (quote !== '"' && quote !== "'") return none();
    const valueStart = this.pos + 1;
    const valueEnd = s.indexOf(quote, valueStart);
    if (valueEnd === -1) return none();
    if (!this.lenient && this.ltFrom(valueStart) < valueEnd) this.fail(`< in attribute ${name}`, this.nextLt);
    if (el.attributes === NO_ATTRIBUTES) el.attributes = Object.create(null) as Record<string, string>;
    el.attributes[name] = this.decoded(valueStart, valueEnd, 'attribute');
    this.pos = valueEnd + 1;
    return true;
  }

  /** Text or CDATA: the open element's, refused (or, lenient, ignored) outside the root. */
  private addText(text: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top) top.text += text;
    else if (!this.lenient && text.trim()) this.fail('text outside the root element');
  }

  /** The first `&` at or after `from` (s.length when none); `from` never moves back. */
  private ampFrom(from: number): number {
    if (this.nextAmp < from) this.nextAmp = this.indexFrom('&', from);
    return this.nextAmp;
  }

  /** The first `<` at or after `from`, as ampFrom. */
  private ltFrom(from: number): number {
    if (this.nextLt < from) this.nextLt = this.indexFrom('<', from);
    return this.nextLt;
  }

  private indexFrom(char: string, from: number): number {
    const at = this.s.indexOf(char, from);
    return at === -1 ? this.s.length : at;
  }

  /** `s[start, end)` with its references decoded; lenient keeps what cannot be decoded as written. */
  private decoded(start: number, end: number, where: 'text' | 'attribute'): string {
    const s = this.s;
    const first = this.ampFrom(start);
    if (first >= end) return s.slice(start, end);
    // One pass by character code into a buffer (decoded text is never longer than written):
    // a text of a million references costs what a copy does, not a million string pieces.
    const out = new Uint16Array(end - start);
    let n = 0;
    for (let i = start; i < first; i++) out[n++] = s.charCodeAt(i);
    let replaced = false;
    for (let i = first; i < end;) {
      const c = s.charCodeAt(i);
      if (c !== AMP) {
        out[n++] = c;
        i++;
        continue;
      }
      const code = this.reference(i, end);
      if (code >= 0) {
        if (code > 0xffff) {
          out[n++] = 0xd800 + ((code - 0x10000) >> 10);
          out[n++] = 0xdc00 + ((code - 0x10000) & 0x3ff);
        } else {
          out[n++] = code;
        }
        replaced = true;
        i = this.referenceEnd;
      } else if (this.lenient) {
        out[n++] = c;
        i++;
      } else {
        this.fail(code === UNKNOWN ? `bad reference ${s.slice(i, this.referenceEnd)}` : `bare & in ${where}`, i);
      }
    }
    return replaced ? fromCharCodes(out, n) : s.slice(start, end);
  }

  /**
   * The code point the reference at `amp` stands for (`&amp;`, `&#233;`, `&#x20AC;`), with
   * `referenceEnd` set past it; UNKNOWN for one that names nothing XML defines (`&nbsp;`,
   * `&#0;`, `&#xD800;`), and NOT_A_REFERENCE when the `&` starts none.
   */
  private reference(amp: number, end: number): number {
    const s = this.s;
    const numeric = s.charCodeAt(amp + 1) === HASH;
    const hex = numeric && s.charCodeAt(amp + 2) === 0x78; /* x */
    const start = hex ? amp + 3 : numeric ? amp + 2 : amp + 1;
    let i = start;
    // Summed as read, saturating past the last code point: no copy of the digits.
    let code = 0;
    if (hex) {
      for (let d: number; i < end && (d = hexValue(s.charCodeAt(i))) >= 0; i++) code = Math.min(code * 16 + d, 0x110000);
    } else if (numeric) {
      for (let c: number; i < end && isDigit((c = s.charCodeAt(i))); i++) code = Math.min(code * 10 + c - 0x30, 0x110000);
    } else {
      while (i < end && isLetter(s.charCodeAt(i))) i++;
    }
    if (i === start || i >= end || s.charCodeAt(i) !== SEMICOLON) return NOT_A_REFERENCE;
    this.referenceEnd = i + 1;
    if (!numeric) return predefinedEntity(s, start, i);
    return isXmlChar(code) ? code : UNKNOWN;
  }
}

function reader(input: string, options: XmlReadOptions): XmlReader {
  return new XmlReader(input.charCodeAt(0) === 0xfeff ? input.slice(1) : input, options.lenient ?? false);
}

/** Parses a whole document into its root element at once; XmlError when it cannot be read. */
export function parseXml(input: string, options: XmlReadOptions = {}): XmlElement {
  const r = reader(input, options);
  r.read();
  return r.document();
}

/**
 * `parseXml` for what clients upload: the document is read in slices of the event loop, so a
 * large one (a 10 MiB POM, a 4 MiB nuspec) never holds every other request while it is read.
 */
export async function readXml(input: string, options: XmlReadOptions = {}): Promise<XmlElement> {
  const r = reader(input, options);
  // Markup items take well under a microsecond each: the clock is read every 64.
  const slice = new TimeSlice(10, 64);
  while (!r.read(slice)) await slice.pause();
  return r.document();
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
    const a = attributes
      ? Object.entries(attributes)
          .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
          .join('')
      : '';
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
