/**
 * MQTT topic filter matching for retained-message lookups (the subscription side uses qlobber).
 * Kept separate because the retained store is scanned by key range and only needs a yes/no test
 * per stored topic.
 */
export interface TopicFilter {
  readonly levels: readonly string[];
  /** Literal leading part of the filter; every matching topic starts with it (may be ''). */
  readonly prefix: string;
  /** The filter has no wildcard: it names exactly one topic. */
  readonly exact: boolean;
  /** [MQTT-4.7.2-1]: a filter starting with a wildcard does not match topics starting with `$`. */
  readonly skipsDollar: boolean;
}

export function parseTopicFilter(filter: string): TopicFilter {
  const levels = filter.split('/');
  const firstWild = levels.findIndex((l) => l === '+' || l === '#');
  const exact = firstWild < 0;
  const prefix = exact ? filter : levels.slice(0, firstWild).join('/');
  return { levels, prefix, exact, skipsDollar: firstWild === 0 };
}

export function topicMatches(filter: TopicFilter, topic: string): boolean {
  if (filter.skipsDollar && topic.startsWith('$')) return false;
  const levels = topic.split('/');
  const f = filter.levels;
  for (let i = 0; i < f.length; i++) {
    const want = f[i];
    // '#' also matches the parent level: 'a/#' matches 'a' [MQTT-4.7.1-2].
    if (want === '#') return true;
    if (i >= levels.length) return false;
    if (want !== '+' && want !== levels[i]) return false;
  }
  return levels.length === f.length;
}
