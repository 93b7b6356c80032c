// The YAML the seed's files are written in, by the one rule that makes them safe to fill with
// what users sent: every string is a double-quoted scalar with everything outside printable
// ASCII escaped, so no input can end its value, start a line, or become a key; and keys are only
// the generator's own words (a key that is not one is a bug, thrown at once). The output is block
// style, which every YAML 1.1 reader (cloud-init's PyYAML) and 1.2 reader take the same way.

export type YamlValue = string | number | boolean | readonly YamlValue[] | { readonly [key: string]: YamlValue };

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A double-quoted YAML scalar; the text must be well-formed (no half surrogate pair). */
export function quoted(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

function scalar(value: string | number | boolean): string {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`YAML cannot hold the number ${value}`);
  return String(value);
}

const isCollection = (v: YamlValue): v is readonly YamlValue[] | { readonly [key: string]: YamlValue } => typeof v === 'object';
const isEmpty = (v: YamlValue): boolean => isCollection(v) && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
const emptyOf = (v: YamlValue): string => (Array.isArray(v) ? '[]' : '{}');

function mapping(map: { readonly [key: string]: YamlValue }, indent: string): string[] {
  return Object.entries(map).flatMap(([key, value]) => {
    if (!KEY.test(key)) throw new Error(`the seed generator wrote the YAML key ${JSON.stringify(key)}, which it must never do`);
    if (!isCollection(value)) return [`${indent}${key}: ${scalar(value)}`];
    if (isEmpty(value)) return [`${indent}${key}: ${emptyOf(value)}`];
    return [`${indent}${key}:`, ...lines(value, `${indent}  `)];
  });
}

function sequence(list: readonly YamlValue[], indent: string): string[] {
  return list.flatMap((item) => {
    if (!isCollection(item)) return [`${indent}- ${scalar(item)}`];
    if (isEmpty(item)) return [`${indent}- ${emptyOf(item)}`];
    // The item's first line goes on the dash's line; the rest line up under it.
    const inner = lines(item, `${indent}  `);
    return [`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1)];
  });
}

function lines(value: YamlValue, indent: string): string[] {
  if (!isCollection(value)) return [`${indent}${scalar(value)}`];
  return Array.isArray(value) ? sequence(value, indent) : mapping(value as { readonly [key: string]: YamlValue }, indent);
}

/** A YAML document of a mapping, one item per line, ending in a newline. */
export function yamlDocument(map: { readonly [key: string]: YamlValue }): string {
  return `${mapping(map, '').join('\n')}\n`;
}
