import { TraceError } from './errors.ts';

/** An element of a parsed XML document. */
export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  /** Character data directly inside this element, entities decoded. */
  text: string;
  /** 1-based line of the element's opening '<'. */
  line: number;
}

// Enough of XML for workload files: no DTDs, namespaces or encodings other
// than the UTF-8 text it is given.

const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;
const ENTITY = /&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);/y;
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Cursor {
  pos = 0;
  line = 1;
  constructor(readonly text: string, readonly file: string) {}

  moveTo(target: number): void {
    for (let i = this.pos; i < target; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    this.pos = target;
  }

  skipBlanks(): void {
    let i = this.pos;
    while (i < this.text.length && /\s/.test(this.text[i])) i++;
    this.moveTo(i);
  }

  readName(): string | null {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (!match) return null;
    this.moveTo(NAME.lastIndex);
    return match[0];
  }

  error(problem: string, remedy: string, line: number = this.line): TraceError {
    return new TraceError(this.file, line, problem, remedy);
  }
}

function lineWithin(raw: string, index: number, firstLine: number): number {
  let line = firstLine;
  for (let i = 0; i < index; i++) if (raw.charCodeAt(i) === 10) line++;
  return line;
}

function decodeEntities(raw: string, firstLine: number, cursor: Cursor): string {
  if (!raw.includes('&')) return raw;
  let decoded = '';
  let from = 0;
  for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
    decoded += raw.slice(from, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(raw);
    const body = match?.[1];
    let character: string | undefined;
    if (body?.startsWith('#x')) character = String.fromCodePoint(parseInt(body.slice(2), 16));
    else if (body?.startsWith('#')) character = String.fromCodePoint(parseInt(body.slice(1), 10));
    else if (body !== undefined) character = NAMED_ENTITIES[body];
    if (character === undefined) {
      const shown = match ? match[0] : raw.slice(amp, amp + 12).split(/\s/)[0];
      throw cursor.error(`unknown entity "${shown}"`, 'write &amp; for a literal &', lineWithin(raw, amp, firstLine));
    }
    decoded += character;
    from = ENTITY.lastIndex;
  }
  return decoded + raw.slice(from);
}

function readAttributes(cursor: Cursor, element: XmlElement): boolean {
  const { text } = cursor;
  for (;;) {
    cursor.skipBlanks();
    if (cursor.pos >= text.length) {
      throw cursor.error(`tag <${element.name}> is never closed by '>'`, `end the tag with '>' or '/>'`, element.line);
    }
    if (text[cursor.pos] === '>') { cursor.moveTo(cursor.pos + 1); return false; }
    if (text.startsWith('/>', cursor.pos)) { cursor.moveTo(cursor.pos + 2); return true; }

    const name = cursor.readName();
    if (name === null) {
      throw cursor.error(`unexpected "${text[cursor.pos]}" in tag <${element.name}>`,
        `write attributes as name="value" and end the tag with '>' or '/>'`);
    }
    cursor.skipBlanks();
    if (text[cursor.pos] !== '=') {
      throw cursor.error(`attribute ${name} of <${element.name}> has no value`, `write ${name}="value"`);
    }
    cursor.moveTo(cursor.pos + 1);
    cursor.skipBlanks();
    const quote = text[cursor.pos];
    if (quote !== '"' && quote !== "'") {
      throw cursor.error(`the value of attribute ${name} of <${element.name}> is not quoted`, `write ${name}="value"`);
    }
    const close = text.indexOf(quote, cursor.pos + 1);
    if (close < 0) {
      throw cursor.error(`the value of attribute ${name} of <${element.name}> is never closed by ${quote}`,
        `add the closing ${quote}`);
    }
    const raw = text.slice(cursor.pos + 1, close);
    if (raw.includes('<')) {
      throw cursor.error(`the value of attribute ${name} of <${element.name}> contains '<'`,
        'write &lt; for a literal <, or add the missing closing quote');
    }
    if (element.attributes.has(name)) {
      throw cursor.error(`attribute ${name} appears twice in <${element.name}>`, 'keep only one');
    }
    const valueLine = cursor.line;
    cursor.moveTo(close + 1);
    // XML reads a line break or tab inside an attribute value as a space.
    element.attributes.set(name, decodeEntities(raw, valueLine, cursor).replace(/[\t\r\n]/g, ' '));
  }
}

/** Parses `text` (named `file` in errors) and returns its root element. */
export function parseXml(text: string, file: string): XmlElement {
  const cursor = new Cursor(text, file);
  const open: XmlElement[] = [];
  let root: XmlElement | null = null;

  const addText = (raw: string, line: number) => {
    const parent = open[open.length - 1];
    if (parent) {
      parent.text += raw;
      return;
    }
    const firstVisible = raw.search(/\S/);
    if (firstVisible >= 0) {
      throw cursor.error('text outside the root element', 'remove it or move it inside the root element',
        lineWithin(raw, firstVisible, line));
    }
  };

  while (cursor.pos < text.length) {
    const lt = text.indexOf('<', cursor.pos);
    const textEnd = lt < 0 ? text.length : lt;
    if (textEnd > cursor.pos) {
      const line = cursor.line;
      const raw = text.slice(cursor.pos, textEnd);
      cursor.moveTo(textEnd);
      addText(decodeEntities(raw, line, cursor), line);
    }
    if (lt < 0) break;
    const line = cursor.line;

    if (text.startsWith('<!--', lt)) {
      const close = text.indexOf('-->', lt + 4);
      if (close < 0) throw cursor.error('comment is never closed', 'end it with -->');
      cursor.moveTo(close + 3);
    } else if (text.startsWith('<?', lt)) {
      const close = text.indexOf('?>', lt + 2);
      if (close < 0) throw cursor.error('declaration <? is never closed', 'end it with ?>');
      cursor.moveTo(close + 2);
    } else if (text.startsWith('<![CDATA[', lt)) {
      const close = text.indexOf(']]>', lt + 9);
      if (close < 0) throw cursor.error('CDATA section is never closed', 'end it with ]]>');
      addText(text.slice(lt + 9, close), line);
      cursor.moveTo(close + 3);
    } else if (text.startsWith('<!', lt)) {
      throw cursor.error('DOCTYPE and other <! declarations are not supported', 'remove the declaration');
    } else if (text.startsWith('</', lt)) {
      cursor.moveTo(lt + 2);
      const name = cursor.readName();
      cursor.skipBlanks();
      if (name === null || text[cursor.pos] !== '>') {
        throw cursor.error('malformed closing tag', 'write it as </name>', line);
      }
      cursor.moveTo(cursor.pos + 1);
      const element = open.pop();
      if (!element) throw cursor.error(`closing tag </${name}> has no opening tag`, 'remove it', line);
      if (element.name !== name) {
        throw cursor.error(`closing tag </${name}> does not match <${element.name}> opened at line ${element.line}`,
          `close <${element.name}> with </${element.name}> first`, line);
      }
    } else {
      cursor.moveTo(lt + 1);
      const name = cursor.readName();
      if (name === null) throw cursor.error(`'<' is not followed by a tag name`, 'write &lt; for a literal <', line);
      const element: XmlElement = { name, attributes: new Map(), children: [], text: '', line };
      const parent = open[open.length - 1];
      if (parent) parent.children.push(element);
      else if (root) {
        throw cursor.error(`second root element <${name}> (the first is <${root.name}> at line ${root.line})`,
          'an XML document has exactly one root element', line);
      } else root = element;
      const selfClosing = readAttributes(cursor, element);
      if (!selfClosing) open.push(element);
    }
  }

  const unclosed = open[open.length - 1];
  if (unclosed) {
    throw cursor.error(`<${unclosed.name}> is never closed`, `add </${unclosed.name}>`, unclosed.line);
  }
  if (!root) throw new TraceError(file, null, 'no XML element found', 'is this the right file?');
  return root;
}
