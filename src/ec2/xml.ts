// The XML EC2's Query API answers with: elements in the 2016-11-15 namespace, lists as <item>
// children, every text escaped.

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A value in an answer: text, a number or boolean (as text), a list (items), or named children. */
export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [name: string]: XmlValue };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function inner(value: XmlValue): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => element('item', v)).join('');
  if (typeof value === 'object') return Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => element(k, v)).join('');
  return escapeXml(String(value));
}

export function element(name: string, value: XmlValue): string {
  return `<${name}>${inner(value)}</${name}>`;
}

/** An action's answer: <ActionResponse xmlns=...><requestId>…</requestId>…</ActionResponse>. */
export function actionResponse(action: string, requestId: string, body: { [name: string]: XmlValue }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">${element('requestId', requestId)}${inner(body)}</${action}Response>`;
}

/** EC2's error document. */
export function errorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${element('Code', code)}${element('Message', message)}</Error></Errors>${element('RequestID', requestId)}</Response>`;
}
