/**
 * `waitForReplicas`: a lease counts only once the primary's replicas have it. Redis replicates
 * asynchronously: a primary answers a write before any replica has it, so a failover (Sentinel or
 * Cluster) can promote a replica that never saw the last acquire, renew or token bump. With this
 * option, the acquire script and every renew are followed, on the same connection, by
 * `WAIT <n> <ttl/5>`; a grant not acknowledged by n replicas is given back and the acquire fails
 * (a backend error, retried), a renew not acknowledged fails (the lease keeps its previous deadline,
 * which was acknowledged, and the holder steps down at it unless a later renew is acknowledged).
 *
 * What holds, measured by test/adapters/redis-sentinel.test.ts and redis-cluster.test.ts:
 *
 * - Without the option (the default). A Sentinel failover with the primary killed (SIGKILL), and
 *   SENTINEL FAILOVER with ioredis's `failoverDetector: true`: every client's connection to the
 *   old primary closes, so the holder steps down at once (connection binding) before anyone can be
 *   elected on the new primary. On the new primary the holder's record names a connection of
 *   another server (`<CLIENT ID>@<run_id>`): its liveness is unknown there, so followers wait for
 *   the TTL and never take over a live holder because its CLIENT ID is unknown. SENTINEL FAILOVER
 *   (or a primary cut off from the Sentinels) with the default `failoverDetector: false`: clients
 *   connected to the old primary keep using it until the Sentinels turn it into a replica (8 to
 *   20 s by Sentinel's defaults) while new connections go to the new primary, whose copy of the
 *   lock stops being renewed: once it expires there, a candidate connecting there is elected while
 *   the holder renews on the old primary: TWO PRIMARIES, until the old primary is converted. A lost
 *   acquire (the primary dies before a replica has it) is harmless for the holder (its connection
 *   closes with the primary) but its token may be issued again by the new primary to a candidate
 *   that never saw it, if that primary's clock is behind the old one's by more than the failover
 *   took (tokens are never below the server clock in µs) and its counter lost the bump.
 *   Redis Cluster: connection binding is off (a crashed holder is replaced after the TTL). A slot
 *   migration (MIGRATE moves the keys with their TTL; a script whose keys are split between the
 *   nodes gets TRYAGAIN, retried by ioredis) and a manual CLUSTER FAILOVER (the primary waits for
 *   its replica to catch up) lose nothing. A primary killed right after a grant its replica never
 *   got: the replica is promoted without the lock, a follower is elected there while the holder,
 *   whose connection loss does not end its lease, believes it is primary until its next renew
 *   fails: TWO PRIMARIES for up to a renew interval.
 * - With `waitForReplicas`. A lease (its grant, its renews) counts only once n replicas have it.
 *   A failover that promotes one of those replicas, or any replica at least as far along (Sentinel
 *   promotes the one with the largest replication offset among equal priorities; a Cluster
 *   primary's most advanced replica usually wins), keeps the lease, its expiry and its token. A
 *   primary cut off from its replicas (the old primary of the SENTINEL FAILOVER case above, or of a
 *   network partition) acknowledges nothing: its holder steps down at its deadline, which comes
 *   before the lease's acknowledged expiry on the new primary, and nobody is elected on it. So
 *   the two-primaries cases above do not happen, and a lost grant is never used, nor its token.
 *
 * What WAIT does not do: it does not make Redis strongly consistent. It bounds the loss to the
 * case where every replica that acknowledged a lease is lost too (or a replica behind them is
 * promoted, by priority or by a forced takeover): a failover then still forgets the lease. It
 * relies on the lease's expiry being carried as an absolute time (Redis 7 replicates PEXPIREAT),
 * so replicas' clocks must agree with the primary's within the drift margin. A replica that
 * acknowledged may not have written the lease to disk: replicas restarted together with the
 * primary may still lose it. A primary with fewer replicas online than required, or one that is
 * slow to acknowledge within ttl/5, elects nobody until they are back.
 *
 * `'all'`: the primary's replicas are counted on every call (INFO replication, in the same round
 * trip): on a primary that has had no replica online (under its current replication id) nothing is
 * waited for, so it costs one INFO and no WAIT; else half of the most replicas seen online there,
 * rounded up (1 of 1 or 2, 2 of 3 or 4). Remembering the most seen is what makes a primary cut
 * off from its replicas refuse leases instead of counting none; its replication id changes when a
 * replica is promoted or the primary restarts, and the count starts again.
 */
import { serverError } from '../../src/adapter-kit.js';
import type { CommandClient } from './connection.js';
import { RELEASE, RENEW, run, type Script, type ScriptClient } from './scripts.js';

/** See `RedisLockOptions.waitForReplicas`. */
export type ReplicaAcks = number | 'all';

/** An ioredis pipeline, as far as it is used here. */
interface Pipeline {
  eval(source: string, keys: number, ...args: Array<string | number>): Pipeline;
  info(section: string): Pipeline;
  call(command: string, ...args: Array<string | number>): Pipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** `Redis` and `Cluster` both pipeline; a Cluster sends a pipeline to the node of its keys' slot. */
export interface PipelineClient extends ScriptClient, CommandClient {
  pipeline(): Pipeline;
  readonly status?: string;
  /** A Cluster's node connections (to follow an ASK redirection by hand). */
  nodes?(role?: string): Array<{ options: { host?: string; port?: number }; pipeline(): Pipeline }>;
}

export interface ReplicaWaitOptions {
  readonly client: PipelineClient;
  /** 0: off. */
  readonly acks: ReplicaAcks;
  /** The server as configured, for errors. */
  readonly address: () => string;
}

/** What one round trip (script, INFO, WAIT) answered. */
interface Round {
  readonly reply: unknown;
  readonly acks: number;
  /** INFO replication ('all' only). */
  readonly info: string | undefined;
}

/** How many primaries' replicas are remembered (a few failovers' worth). */
const REMEMBERED_PRIMARIES = 16;
/**
 * 'all': how long a replica seen online is still waited for once gone, in ms. Longer than Sentinel
 * takes to turn a former primary into a replica (8 to 20 s by default), so that primary, still
 * serving the connections made to it, counts nothing meanwhile; a replica gone for good then
 * stops blocking leases.
 */
const FORGET_GONE_AFTER = 30_000;

export class ReplicaWait {
  readonly #client: PipelineClient;
  readonly #acks: ReplicaAcks;
  readonly #address: () => string;
  /**
   * 'all': per primary (its replication id), each replica seen online there (`ip:port`), with when
   * this process first found it gone since (null while online).
   */
  readonly #replicasOf = new Map<string, Map<string, number | null>>();
  /** 'all': per key, the acknowledgements last required, asked for in the first round trip. */
  readonly #lastNeeded = new Map<string, number>();

  /** 'all': counts the replicas of the primary a connection reaches, as soon as it is made. */
  readonly #learn = () => {
    void this.#client.call('INFO', 'replication').then(
      (info) => this.#remember(String(info)),
      () => undefined, // Counted again with the next call.
    );
  };

  constructor({ client, acks, address }: ReplicaWaitOptions) {
    this.#client = client;
    this.#acks = acks;
    this.#address = address;
    // A follower learns the primary's replicas when it connects, not first when it is granted the
    // lock: by then that primary may be cut off from them (a former primary still serving the
    // connections made to it), and would show none. A Cluster's nodes are counted as they answer.
    if (acks === 'all' && client.isCluster !== true) {
      client.on('ready', this.#learn);
      if (client.status === 'ready') this.#learn();
    }
  }

  /** Stops listening to the client (the lock is closed; a client not ours lives on). */
  close(): void {
    this.#client.off?.('ready', this.#learn);
  }

  get enabled(): boolean {
    return this.#acks !== 0;
  }

  /**
   * Runs `script` (a write on `args[0]`, the lock key) and, when enabled, waits on the same
   * connection until enough replicas have it. Resolves with the script's reply; throws when too few
   * replicas acknowledged within `ttl / 5` ms.
   */
  async run(script: Script, args: Array<string | number>, ttl: number, operation: string): Promise<unknown> {
    if (!this.enabled) return run(this.#client, script, args);
    const key = String(args[0]);
    const wait = Math.max(1, Math.ceil(ttl / 5));
    let asked = this.#acks === 'all' ? (this.#lastNeeded.get(key) ?? 0) : this.#acks;
    for (let round = 0; ; round++) {
      const { reply, acks, info } = await this.#round(script, args, asked, wait);
      const needed = info === undefined ? asked : this.#needed(info);
      if (this.#acks === 'all') this.#lastNeeded.set(key, needed);
      // Nothing written (the lease is not ours), or enough replicas have it.
      if (reply !== 1 || acks >= needed) return reply;
      // 'all' asked for fewer than it now knows it needs: WAIT again for as many.
      if (asked < needed && round === 0) {
        asked = needed;
        continue;
      }
      const online = info === undefined ? '' : `; the primary has ${onlineReplicas(info).length} online`;
      const setting = typeof this.#acks === 'string' ? `'${this.#acks}'` : this.#acks;
      const message = `only ${acks} of the ${needed} replica acknowledgements required (waitForReplicas: ${setting}) came within ${wait} ms${online}: not counted`;
      throw serverError('redis', operation, this.#address(), new Error(message));
    }
  }

  /**
   * A lease was just granted: resolves once enough replicas have it (a RENEW with `renewArgs`, then
   * WAIT). Otherwise gives it back (RELEASE with `releaseArgs`: nobody may use a grant a failover
   * may forget) and throws.
   */
  async confirmGrant(renewArgs: Array<string | number>, releaseArgs: string[], ttl: number): Promise<void> {
    if (!this.enabled) return;
    let reply: unknown;
    try {
      reply = await this.run(RENEW, renewArgs, ttl, 'acquire');
    } catch (error) {
      await run(this.#client, RELEASE, releaseArgs).catch(() => undefined);
      throw error;
    }
    if (reply !== 1) {
      throw serverError('redis', 'acquire', this.#address(), new Error('the lock granted was gone when its replicas were asked for it'));
    }
  }

  /** One round trip: the script, INFO replication ('all'), WAIT; on the node that served the script. */
  async #round(script: Script, args: Array<string | number>, asked: number, wait: number): Promise<Round> {
    const send = async (pipeline: Pipeline, asking = false) => {
      if (asking) pipeline.call('ASKING');
      pipeline.eval(script.source, script.keys, ...args);
      if (this.#acks === 'all') pipeline.info('replication');
      const replies = await pipeline.call('WAIT', asked, wait).exec();
      if (!replies) throw new Error('the pipeline was discarded');
      return asking ? replies.slice(1) : replies;
    };
    let replies = await send(this.#client.pipeline());
    const redirect = redirection(replies[0]?.[0]);
    if (redirect?.kind === 'ASK') {
      // The slot is moving and the key is on the target already: ask the target (ASKING, once).
      const node = this.#client.nodes?.('all').find((n) => `${n.options.host}:${n.options.port}` === redirect.address);
      if (node) replies = await send(node.pipeline(), true);
    } else if (redirect) {
      // MOVED (the slot moved), TRYAGAIN, CLUSTERDOWN: a lone command is redirected and retried by
      // ioredis, which learns the slot's new node; the pipeline then goes there.
      await run(this.#client, script, args);
      replies = await send(this.#client.pipeline());
    }
    const failed = replies.find(([error]) => error !== null)?.[0];
    if (failed) throw failed;
    const answers = replies.map(([, answer]) => answer);
    const info = this.#acks === 'all' ? String(answers[1] ?? '') : undefined;
    return { reply: answers[0], acks: Number(answers.at(-1) ?? 0), info };
  }

  /** 'all': the acknowledgements needed from the primary that answered `info`. */
  #needed(info: string): number {
    if (!/^role:master/m.test(info)) throw new Error(`the server is not a primary (INFO replication: ${/^role:\w+/m.exec(info)?.[0]})`);
    return this.#remember(info);
  }

  /**
   * The replicas the primary that answered `info` has (under its replication id): those online, and
   * those seen online before and gone for less than FORGET_GONE_AFTER since this process noticed.
   */
  #remember(info: string): number {
    if (!/^role:master/m.test(info)) return 0;
    const id = /^master_replid:(\w+)/m.exec(info)?.[1] ?? '';
    const known = this.#replicasOf.get(id) ?? new Map<string, number | null>();
    this.#replicasOf.delete(id); // re-inserted last: the least recently asked primary goes first
    this.#replicasOf.set(id, known);
    if (this.#replicasOf.size > REMEMBERED_PRIMARIES) this.#replicasOf.delete(this.#replicasOf.keys().next().value as string);
    const online = onlineReplicas(info);
    const now = performance.now();
    for (const replica of online) known.set(replica, null);
    for (const [replica, goneSince] of known) {
      if (online.includes(replica)) continue;
      if (goneSince === null) known.set(replica, now);
      else if (now - goneSince >= FORGET_GONE_AFTER) known.delete(replica);
    }
    return known.size;
  }
}

/** The replicas INFO replication lists as online (`ip:port`; a syncing one cannot acknowledge yet). */
function onlineReplicas(info: string): string[] {
  return [...info.matchAll(/^slave\d+:ip=([^,]+),port=(\d+),state=online/gm)].map((m) => `${m[1]}:${m[2]}`);
}

/** A Cluster redirection a pipeline's first reply may be. */
function redirection(error: Error | null | undefined): { kind: string; address: string } | null {
  const match = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)(?: \d+ (\S+))?/.exec(error?.message ?? '');
  return match ? { kind: match[1] as string, address: match[2] ?? '' } : null;
}
