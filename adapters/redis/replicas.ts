/**
 * `waitForReplicas`: a lease counts only once the primary's replicas have it. Redis replicates
 * asynchronously (a primary answers a write before any replica has it), so a failover can promote
 * a replica that never saw the last grant, renew or token bump. With the option, each grant and
 * each renew is followed, in one pipeline on the connection that wrote it (a Cluster's: the slot's
 * node, ASK and MOVED followed), by `WAIT <n> <ttl/5>`: a grant short of n acknowledgements is
 * given back and the acquire fails (retried); a renew short of them fails, and the holder keeps
 * the deadline of its last acknowledged renew. Measured by test/adapters/redis-sentinel.test.ts
 * and redis-cluster.test.ts (private deployments, real elections, terms read from outside):
 *
 * WITHOUT IT (the default):
 * - Sentinel, primary killed: the holder's connection closes, it steps down at once; a primary
 *   again ~3 s later (the Sentinels' failover). The new primary does not know the holder's
 *   `<CLIENT ID>@<run_id>`: its liveness is unknown there, so followers wait for the TTL (never
 *   "gone" for being unknown); the old holder, reconnected, takes it back or releases it. A grant
 *   the replicas never got is harmless to exclusion (its holder's connection closed too) but its
 *   token may be issued again to a candidate that never saw it when the new primary's counter is
 *   what decides: a candidate that saw it asks above it (SeenHolders' floor); tokens are never
 *   below the server clock in µs, so this takes a new primary whose clock is behind.
 * - Sentinel, SENTINEL FAILOVER with ioredis's `failoverDetector: true`: clients leave the old
 *   primary on +switch-master, the holder steps down; safe while Sentinel's hello period (2 s)
 *   is below ttl - renewInterval. Without failoverDetector (ioredis's default), or with the old
 *   primary cut off from the Sentinels but not from clients: connections to it go on using it
 *   until the Sentinels turn it into a replica (8 to 20 s by default), new ones go to the new
 *   primary, where the lease is no longer renewed: once it expires there, a candidate there is
 *   elected while the holder renews on the old one. TWO PRIMARIES (reproduced).
 * - Cluster: no connection binding (a crashed holder is replaced after the TTL). A slot migration
 *   loses nothing (MIGRATE carries the keys with their TTL; split keys answer TRYAGAIN, retried;
 *   renews follow ASK): the holder stays primary throughout. A CLUSTER FAILOVER loses nothing (the
 *   primary waits for its replica). A primary killed right after a grant its replica never got:
 *   the promoted replica grants the lock again while the lease runs; the holder, not bound to its
 *   connection, believes it is primary until a renew reaches the new primary: TWO PRIMARIES for up
 *   to a renew interval (tokens still increase, by the clock).
 *
 * WITH IT (`'all'`, or a number as large as the replicas): the failovers above keep every counted
 * lease, and a primary cut off from its replicas acknowledges nothing: its holder steps down at its
 * deadline (before the lease's copy on the new primary expires) and nobody is elected there. No two
 * primaries, and a grant a failover forgets is never used, nor its token. A number below the
 * replicas is weaker: during a SENTINEL FAILOVER the old primary's renews are acknowledged by the
 * replica not promoted, which then resyncs from the new primary and drops them (observed).
 *
 * What WAIT does not do: it does not make Redis strongly consistent. It bounds the loss to a
 * failover that promotes a replica that did not acknowledge (every one that did is lost; a forced
 * takeover; replica-priority), and to replicas restarting with the primary (acknowledged is in
 * memory, not on disk). Expiry travels as an absolute time (PEXPIREAT): replicas' clocks must agree
 * with the primary's within the drift margin. While a replica waited for is down (with 'all': for
 * its first 30 s gone) or slower than ttl/5, leases do not count: nobody is primary. Cost: one INFO
 * ('all') and one WAIT per grant and renew, in the same round trip; no WAIT where no replica is.
 *
 * `'all'`: the replicas of the primary that answered (INFO replication, in the same pipeline):
 * those online, and those seen online there (under its replication id, renewed by a promotion or a
 * restart) and gone for less than 30 s since this process noticed. A client counts them as it
 * connects (a Cluster client, at every primary), so a follower connected before a failover refuses
 * a grant on the cut-off primary too. After 30 s a gone replica no longer blocks leases, so a
 * primary cut off for longer (a partition beyond repl-timeout + 30 s) counts them again:
 * `min-replicas-to-write` on the server covers that case.
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
  nodes?(role?: string): Array<{ options: { host?: string; port?: number }; pipeline(): Pipeline } & Pick<CommandClient, 'call'>>;
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

  /** 'all': counts the replicas of the primary a connection reaches (a Cluster's: of each), as soon as it is made. */
  readonly #learn = () => {
    const primaries = this.#client.isCluster === true ? (this.#client.nodes?.('master') ?? []) : [this.#client];
    for (const primary of primaries) {
      void primary.call('INFO', 'replication').then(
        (info) => this.#remember(String(info)),
        () => undefined, // Counted again with the next call.
      );
    }
  };

  constructor({ client, acks, address }: ReplicaWaitOptions) {
    this.#client = client;
    this.#acks = acks;
    this.#address = address;
    // A follower learns the primary's replicas when it connects, not first when it is granted the
    // lock: by then that primary may be cut off from them (a former primary still serving the
    // connections made to it), and would show none.
    if (acks === 'all') {
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
      // Nothing to wait for (yet): no WAIT at all, so a primary without replicas costs none.
      if (asked > 0) pipeline.call('WAIT', asked, wait);
      const replies = await pipeline.exec();
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
    return { reply: answers[0], acks: asked > 0 ? Number(answers.at(-1)) : 0, info };
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
