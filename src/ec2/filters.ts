// EC2's filters: Filter.N.Name with values Filter.N.Value.M; a resource matches when every
// filter has a value that matches one of its field's values (* and ? are wildcards).

export interface Filter {
  name: string;
  values: string[];
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

export function matchesAll(filters: Filter[], fields: Map<string, string[]>): boolean {
  return filters.every((f) => {
    const have = fields.get(f.name) ?? [];
    return f.values.some((v) => {
      const re = glob(v);
      return have.some((h) => re.test(h));
    });
  });
}
