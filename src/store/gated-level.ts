import type { Level } from 'level';

export interface OpenDecision {
  /** Only an empty directory becomes a new database. */
  createIfMissing: boolean;
}

type OpenImpl = (options: object) => Promise<void>;

/**
 * Makes a just-constructed LevelDB open only when told how; returns the function that tells it.
 * abstract-level opens a database by itself right after construction (a deferred open, which
 * sublevels made meanwhile wait for); LevelDB would then replay and delete the write-ahead logs, or
 * create a new database where CURRENT is missing, before the store has looked at the files
 * (src/store/integrity.ts). Here LevelDB's open — `_open`, abstract-level's hook for implementations,
 * called by every open() — waits until the decision whether a new database may be created.
 */
export function holdOpen(db: Level<string, unknown>): (decision: OpenDecision) => void {
  let decide: (decision: OpenDecision) => void = () => undefined;
  const decided = new Promise<OpenDecision>((resolve) => { decide = resolve; });
  const target = db as unknown as { _open: OpenImpl };
  const open = target._open;
  target._open = async function openWhenDecided(this: unknown, options: object): Promise<void> {
    const decision = await decided;
    return open.call(this, { ...options, createIfMissing: decision.createIfMissing, errorIfExists: false });
  };
  return decide;
}
