// Thunar keeps every custom action of the user in one file, ~/.config/Thunar/uca.xml. Doppel's action is added and
// removed by its unique-id, as text: the file is parsed (strictly: anything not well-formed is refused, and the
// file left alone), Doppel's <action> element is cut out or put in before </actions>, and every other byte stays
// as it was. The result is parsed again before it is written.

/** An element of the parsed document, with where it lies in the text. */
export interface XmlElement {
  name: string;
  /** Index of its '<'. */
  start: number;
  /** Index just after its end tag (or its '/>'). */
  end: number;
  /** Index of the first character after the start tag, and of its end tag's '<' (both `end` when self-closing). */
  contentStart: number;
  contentEnd: number;
  children: XmlElement[];
  /** Its own text (not its children's), entities decoded. */
  text: string;
}

export class XmlError extends Error {}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(raw: string, at: number): string {
  if (raw.includes('<')) throw new XmlError(`'<' in text at ${at}`);
  return raw.replace(/&([^;]*);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError(`a bare '&' at ${at}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(ref)?.[1] ?? /^#([0-9]+)$/.exec(ref)?.[1];
    if (code === undefined) throw new XmlError(`unknown entity &${ref}; at ${at}`);
    const n = ref.startsWith('#x') ? parseInt(code, 16) : parseInt(code, 10);
    if (!(n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0x10ffff)))
      throw new XmlError(`a character reference to ${whole} at ${at}`);
    return String.fromCodePoint(n);
  });
}

/**
 * Parses a whole XML document: an optional declaration, comments and processing instructions, one root element.
 * No DOCTYPE (uca.xml has none, and entities it could declare are not worth trusting). Throws XmlError.
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let textStart = 0;

  const fail = (what: string): never => {
    throw new XmlError(`${what} at ${i}`);
  };
  const expectName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) fail('a name expected');
    i += m![0].length;
    return m![0];
  };
  const skipSpace = (): void => {
    while (i < text.length && /[ \t\r\n]/.test(text[i]!)) i++;
  };
  const flushText = (end: number): void => {
    const raw = text.slice(textStart, end);
    const top = stack[stack.length - 1];
    if (top) top.text += decodeText(raw, textStart);
    else if (raw.replace(/^\uFEFF/, '').trim() !== '')
      throw new XmlError(`text outside the root element at ${textStart}`);
  };

  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt === -1) {
      i = text.length;
      break;
    }
    i = lt;
    flushText(lt);
    if (text.startsWith('<!--', i)) {
      const close = text.indexOf('-->', i + 4);
      if (close === -1) fail('an unterminated comment');
      if (text.slice(i + 4, close).includes('--')) fail("'--' inside a comment");
      i = close + 3;
    } else if (text.startsWith('<?', i)) {
      const close = text.indexOf('?>', i + 2);
      if (close === -1) fail('an unterminated processing instruction');
      if (text.startsWith('<?xml', i) && /[\s?]/.test(text[i + 5] ?? '') && i !== 0 && text.slice(0, i) !== '\uFEFF')
        fail('an XML declaration not at the start');
      i = close + 2;
    } else if (text.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) fail('CDATA outside the root element');
      const close = text.indexOf(']]>', i + 9);
      if (close === -1) fail('an unterminated CDATA section');
      stack[stack.length - 1]!.text += text.slice(i + 9, close);
      i = close + 3;
    } else if (text.startsWith('<!', i)) {
      fail('a DOCTYPE or other declaration (not accepted)');
    } else if (text.startsWith('</', i)) {
      const start = i;
      i += 2;
      const name = expectName();
      skipSpace();
      if (text[i] !== '>') fail("'>' expected");
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) fail(`</${name}> does not close ${open ? `<${open.name}>` : 'anything'}`);
      open!.contentEnd = start;
      open!.end = i;
    } else {
      const start = i;
      i++;
      const name = expectName();
      const seen = new Set<string>();
      for (;;) {
        const before = i;
        skipSpace();
        if (text.startsWith('/>', i) || text[i] === '>') break;
        if (i === before) fail('a space expected between attributes');
        const attr = expectName();
        if (seen.has(attr)) fail(`the attribute ${attr} twice`);
        seen.add(attr);
        skipSpace();
        if (text[i] !== '=') fail("'=' expected");
        i++;
        skipSpace();
        const quote = text[i];
        if (quote !== '"' && quote !== "'") fail('a quoted attribute value expected');
        const close = text.indexOf(quote!, i + 1);
        if (close === -1) fail('an unterminated attribute value');
        decodeText(text.slice(i + 1, close), i + 1);
        i = close + 1;
      }
      const selfClosing = text.startsWith('/>', i);
      i += selfClosing ? 2 : 1;
      const element: XmlElement = { name, start, end: i, contentStart: i, contentEnd: i, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (!selfClosing) stack.push(element);
    }
    textStart = i;
  }
  flushText(text.length);
  if (stack.length > 0) throw new XmlError(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** What an uca.xml that Doppel creates holds besides its action: what Thunar itself writes for no actions. */
export const EMPTY_UCA = '<?xml version="1.0" encoding="UTF-8"?>\n<actions>\n</actions>\n';

export interface ThunarAction {
  uniqueId: string;
  name: string;
  description: string;
  icon: string;
  /** The command, %F where the selected files go (Thunar quotes each). */
  command: string;
  /** File name patterns, e.g. *.jpg. */
  patterns: string[];
}

/**
 * The <action> element, as Thunar writes one. Only elements every Thunar version knows: an unknown one makes
 * Thunar refuse the whole file (and so every action of the user).
 */
export function actionXml(action: ThunarAction, escape: (text: string) => string): string {
  return [
    '<action>',
    `\t<icon>${escape(action.icon)}</icon>`,
    `\t<name>${escape(action.name)}</name>`,
    `\t<unique-id>${escape(action.uniqueId)}</unique-id>`,
    `\t<command>${escape(action.command)}</command>`,
    `\t<description>${escape(action.description)}</description>`,
    `\t<patterns>${escape(action.patterns.join(';'))}</patterns>`,
    '\t<image-files/>',
    '</action>',
  ].join('\n');
}

/** The root <actions> element of an uca.xml's text; throws XmlError when it is not one. */
export function parseUca(text: string): XmlElement {
  const root = parseXml(text);
  if (root.name !== 'actions') throw new XmlError(`the root element is <${root.name}>, not <actions>`);
  return root;
}

/** The <action> elements of uca.xml whose <unique-id> is `uniqueId`. */
export function actionsWithId(root: XmlElement, uniqueId: string): XmlElement[] {
  return root.children.filter(
    (a) => a.name === 'action' && a.children.some((c) => c.name === 'unique-id' && c.text.trim() === uniqueId),
  );
}

/** uca.xml's text without the actions of `uniqueId` (each with the line break after it). Throws XmlError. */
export function withoutAction(text: string, uniqueId: string): string {
  const root = parseUca(text);
  let out = text;
  for (const action of actionsWithId(root, uniqueId).reverse()) {
    const end = out.startsWith('\n', action.end) ? action.end + 1 : action.end;
    out = out.slice(0, action.start) + out.slice(end);
  }
  parseUca(out);
  return out;
}

/**
 * uca.xml's text with `xml` (one <action>) as its only action of `uniqueId`: the old one(s) cut out, the new one
 * put before </actions>, followed by a line break. Throws XmlError when the text (or the result) is not a
 * well-formed uca.xml.
 */
export function withAction(text: string, uniqueId: string, xml: string): string {
  const without = withoutAction(text, uniqueId);
  const root = parseUca(without);
  let out: string;
  if (root.contentEnd === root.end) {
    // <actions/>: no end tag to insert before.
    out = `${without.slice(0, root.start)}<actions>\n${xml}\n</actions>${without.slice(root.end)}`;
  } else {
    out = `${without.slice(0, root.contentEnd)}${xml}\n${without.slice(root.contentEnd)}`;
  }
  if (actionsWithId(parseUca(out), uniqueId).length !== 1) throw new XmlError('the action was not added');
  return out;
}
