// Create/Delete/DescribeTags on the caller's instances.

import type { Action } from '../action.ts';
import { Ec2Error, invalidValue } from '../errors.ts';
import { checkInstanceIds, ownInstancesNamed } from '../instance-ids.ts';
import { ownInstances } from '../instance-view.ts';
import type { Params } from '../query.ts';
import { type Filter, matchesAll } from '../filters.ts';
import { checkTag, MOST_TAGS_PER_RESOURCE } from './tag-checks.ts';

/** ResourceId.N: vws tags instances only, which must be the caller's. */
function readResources(p: Params): string[] {
  const ids = p.list('ResourceId');
  if (ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter ResourceId (ResourceId.1, ...)');
  for (const id of ids) if (!id.startsWith('i-')) throw invalidValue('ResourceId', id, 'vws tags instances (i-...) only.');
  return checkInstanceIds(ids);
}

export const createTags: Action = (p) => {
  const ids = readResources(p);
  const tags = p.tags('Tag').map((t) => checkTag(t.key, t.value ?? ''));
  if (tags.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter Tag (Tag.1.Key, Tag.1.Value)');
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw invalidValue('Tag.Key', tags.map((t) => t.key).join(','), 'A tag key is given twice.');
  return async (opts, caller) => {
    await ownInstancesNamed(opts, caller, ids);
    const have = await opts.store.tagsOf(caller.user.id);
    for (const id of ids) {
      const keys = new Set([...have.filter((t) => t.resourceId === id).map((t) => t.key), ...tags.map((t) => t.key)]);
      if (keys.size > MOST_TAGS_PER_RESOURCE) throw new Ec2Error('InvalidParameterValue', `Instance ${id} would have ${keys.size} tags; a resource has at most ${MOST_TAGS_PER_RESOURCE}`);
    }
    for (const id of ids) for (const t of tags) await opts.store.putTag({ owner: caller.user.id, resourceId: id, key: t.key, value: t.value });
    return { return: true };
  };
};

export const deleteTags: Action = (p) => {
  const ids = readResources(p);
  // Tag.N.Value given: only a tag with that value goes; absent: the key goes whatever its value.
  const tags = p.tags('Tag', true);
  return async (opts, caller) => {
    await ownInstancesNamed(opts, caller, ids);
    const have = await opts.store.tagsOf(caller.user.id);
    for (const id of ids) {
      for (const t of have.filter((h) => h.resourceId === id)) {
        const asked = tags.length === 0 || tags.some((x) => x.key === t.key && (x.value === undefined || x.value === t.value));
        if (asked) await opts.store.deleteTag(caller.user.id, id, t.key);
      }
    }
    return { return: true };
  };
};

const TAG_FILTERS = ['resource-id', 'resource-type', 'key', 'value'];

export const describeTags: Action = (p) => {
  const filters: Filter[] = p.filters();
  for (const f of filters) if (!TAG_FILTERS.includes(f.name)) throw invalidValue('Filter.Name', f.name, `The filter '${f.name.slice(0, 100)}' is invalid; vws supports ${TAG_FILTERS.join(', ')}.`);
  return async (opts, caller) => {
    // Tags of instances no longer shown are not shown either.
    const live = new Set((await ownInstances(opts, caller)).map((i) => i.id));
    const tags = (await opts.store.tagsOf(caller.user.id)).filter((t) => live.has(t.resourceId));
    const chosen = tags.filter((t) => matchesAll(filters, new Map([['resource-id', [t.resourceId]], ['resource-type', ['instance']], ['key', [t.key]], ['value', [t.value]]])));
    return { tagSet: chosen.map((t) => ({ resourceId: t.resourceId, resourceType: 'instance', key: t.key, value: t.value })) };
  };
};
