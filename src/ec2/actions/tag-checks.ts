// What a tag may be, as EC2 limits it.

import { invalidValue } from '../errors.ts';

export interface TagInput {
  key: string;
  value: string;
}

export const MOST_TAGS_PER_RESOURCE = 50;

export function checkTag(key: string, value: string): TagInput {
  if (key.length === 0 || key.length > 128) throw invalidValue('Tag.Key', key, 'A tag key is 1 to 128 characters.');
  if (key.toLowerCase().startsWith('aws:')) throw invalidValue('Tag.Key', key, 'Tag keys starting with aws: are reserved for AWS.');
  if (value.length > 256) throw invalidValue('Tag.Value', value, 'A tag value is at most 256 characters.');
  return { key, value };
}
