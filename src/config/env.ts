import { configSchema } from './schema.js';

/**
 * Environment overrides, derived from the schema: the setting `a.b_c` is `WAYS_EDGE_A_B_C`
 * (e.g. `api.port` → `WAYS_EDGE_API_PORT`, `data_dir` → `WAYS_EDGE_DATA_DIR`). Values are strings;
 * the schema validator coerces them to the field's type and reports a bad one by its setting path.
 */
export const ENV_PREFIX = 'WAYS_EDGE_';

/** SPEC names that do not follow the derived pattern. */
const ALIASES: Record<string, string> = {
  WAYS_EDGE_CLOUD_CA: 'cloud.ca',
};

interface SchemaNode { type?: string; properties?: Record<string, SchemaNode> }

export function settingPaths(node: SchemaNode = configSchema as unknown as SchemaNode, prefix: string[] = []): string[][] {
  if (node.type !== 'object' || !node.properties) return [prefix];
  return Object.entries(node.properties).flatMap(([key, child]) => settingPaths(child, [...prefix, key]));
}

export function envNameOf(path: readonly string[]): string {
  return ENV_PREFIX + path.join('_').toUpperCase();
}

/** Returns the overrides present in `env` as [settingPath, rawValue, envName]. */
export function envOverrides(env: NodeJS.ProcessEnv): Array<[string[], string, string]> {
  const found: Array<[string[], string, string]> = [];
  for (const path of settingPaths()) {
    const name = envNameOf(path);
    const value = env[name];
    if (value !== undefined) found.push([path, value, name]);
  }
  for (const [name, dotted] of Object.entries(ALIASES)) {
    const value = env[name];
    if (value !== undefined && !found.some(([, , n]) => n === name)) found.push([dotted.split('.'), value, name]);
  }
  return found;
}

export function applyOverrides(target: Record<string, unknown>, overrides: Array<[string[], string, string]>): void {
  for (const [path, value] of overrides) {
    let node = target;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const leaf = path[path.length - 1] as string;
    // Arrays are given as comma-separated lists.
    node[leaf] = leaf === 'extra_names' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  }
}
