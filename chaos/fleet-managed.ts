/**
 * The fleets with managers. `ManagedFleet` (`--adapter manager`): one WorkerManager runs every
 * candidate as a worker and restarts them itself. `MixedFleet` (`--adapter mixed`): two managers
 * with different names, each running some candidates as workers, and one or two plain candidates
 * beside them, all campaigning for one lock name with the default lock: the managers' arbiters
 * hold the default file lock on behalf of their workers, the plain candidates take it themselves,
 * and every process of the fleet has XDG_RUNTIME_DIR pointed at the run's dir, so the default is
 * the same file for all of them. One primary among all of them is what the run checks.
 *
 * Workers' lines reach us through their manager's stdout, which they inherit.
 */
import { DirectFleet, Fleet } from './fleet.js';
import { ChaosManager } from './manager-process.js';
import type { CandidateSettings } from './protocol.js';
import type { Recorder } from './recorder.js';

export class ManagedFleet extends Fleet {
  #manager: ChaosManager | undefined;

  override managers(): ChaosManager[] {
    return this.#manager ? [this.#manager] : [];
  }

  async start(count: number): Promise<void> {
    this.#manager = new ChaosManager(this.recorder, 'chaos-a', this.settings, count, this.env, (line) => this.onCandidateLine(line));
    await this.#manager.start();
  }

  async close(): Promise<void> {
    await this.#manager?.close();
  }
}

/** How a mixed fleet of `candidates` processes is made up: two managers of `perManager` workers, and `plain` candidates. */
export function mixedSplit(candidates: number): { perManager: number; plain: number } {
  // One plain candidate for an odd total, two for an even one; the rest split evenly (5 = 2 + 2 + 1).
  const plain = 1 + ((candidates - 1) % 2);
  return { perManager: (candidates - plain) / 2, plain };
}

export class MixedFleet extends Fleet {
  readonly #managers: ChaosManager[] = [];
  readonly #plain: DirectFleet;

  constructor(recorder: Recorder, settings: CandidateSettings, env: NodeJS.ProcessEnv = {}) {
    super(recorder, settings, env);
    this.#plain = new DirectFleet(recorder, settings, env);
  }

  override managers(): ChaosManager[] {
    return [...this.#managers];
  }

  async start(count: number): Promise<void> {
    const { perManager, plain } = mixedSplit(count);
    for (const name of ['chaos-a', 'chaos-b']) {
      this.#managers.push(new ChaosManager(this.recorder, name, this.settings, perManager, this.env, (line) => this.onCandidateLine(line)));
    }
    // Workers take slots 0..perManager-1 in each manager (their TTLs by slot); the plain ones come after.
    await Promise.all([...this.#managers.map((m) => m.start()), this.#plain.start(plain, perManager)]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#managers.map((m) => m.close()), this.#plain.close()]);
  }
}
