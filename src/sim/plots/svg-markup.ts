// The few pieces of SVG markup the charts are made of, written by hand: a chart is a string with no
// library behind it, and the same figures give the same bytes.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text as it may stand in an element or an attribute. Control characters XML 1.0 does not allow
 * (a trace's file name may hold anything) are dropped: a parser would refuse the whole file.
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A coordinate or a length: a tenth of a pixel is finer than any screen shows, and keeps the files small. */
export function px(x: number): string {
  const r = Math.round(x * 10) / 10;
  return r === 0 ? '0' : String(r);
}

export type Attributes = Readonly<Record<string, string | number | undefined>>;

function attributeText(attrs: Attributes): string {
  let out = '';
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === 'number' ? px(value) : escapeXml(value)}"`;
  }
  return out;
}

/** An element; `content` is markup already (escape text with `escapeXml`, or use `textElement`). */
export function element(name: string, attrs: Attributes, ...content: string[]): string {
  const inner = content.join('');
  return inner === '' ? `<${name}${attributeText(attrs)}/>` : `<${name}${attributeText(attrs)}>${inner}</${name}>`;
}

/** An element holding only text. */
export function textElement(name: string, attrs: Attributes, text: string): string {
  return element(name, attrs, escapeXml(text));
}

/**
 * A whole document, with what a screen reader announces: role img, its title as the accessible
 * name, and a description of what it shows.
 */
export function svgDocument(size: { width: number; height: number }, title: string, description: string, body: readonly string[]): string {
  const root = element('svg', {
    xmlns: 'http://www.w3.org/2000/svg', width: size.width, height: size.height, viewBox: `0 0 ${px(size.width)} ${px(size.height)}`,
    role: 'img', 'aria-label': title, 'font-family': 'sans-serif', 'font-size': 12,
  }, textElement('title', {}, title), textElement('desc', {}, description), ...body.map((b) => `\n${b}`), '\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
