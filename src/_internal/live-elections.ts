/**
 * The elections alive in this process, shared through a global symbol: in `primacy start
 * --single-process` the CLI (which answers `worker.workers()`) and the app may load primacy from
 * two copies. So the one process can say whether it is primary, as the manager's arbiter says for
 * its workers.
 */
interface Campaigner {
  readonly isPrimary: boolean;
}

const LIVE = Symbol.for('primacy.live-elections');
const registry = globalThis as { [LIVE]?: Set<Campaigner> };

/** Counts `election` as alive until the returned function is called (when it stops). */
export function registerLiveElection(election: Campaigner): () => void {
  registry[LIVE] ??= new Set();
  const live = registry[LIVE];
  live.add(election);
  return () => live.delete(election);
}

/** Whether any election alive in this process is primary now. */
export function anyElectionPrimary(): boolean {
  for (const election of registry[LIVE] ?? []) if (election.isPrimary) return true;
  return false;
}
