// The user-data file as a MIME multipart that cloud-init splits into its parts and merges. Every
// part is base64: no line of base64 starts with "--", so no part, whatever a user wrote in it,
// can end itself or start another, and the boundary can be a constant.

export const BOUNDARY = 'vws-seed-part';

export interface MimePart {
  type: string;
  /** A name for cloud-init's logs and its copy of the part. */
  filename: string;
  content: string;
  /** How cloud-init merges this part into those before it (its Merge-Type header). */
  mergeType?: string;
}

function base64Lines(text: string): string {
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  return (b64.match(/.{1,76}/g) ?? []).join('\n');
}

export function multipart(parts: readonly MimePart[]): string {
  const out = [`Content-Type: multipart/mixed; boundary="${BOUNDARY}"`, 'MIME-Version: 1.0', ''];
  for (const part of parts) {
    out.push(
      `--${BOUNDARY}`,
      `Content-Type: ${part.type}; charset="utf-8"`,
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${part.filename}"`,
      ...(part.mergeType ? [`Merge-Type: ${part.mergeType}`] : []),
      '',
      base64Lines(part.content),
    );
  }
  out.push(`--${BOUNDARY}--`, '');
  return out.join('\n');
}
