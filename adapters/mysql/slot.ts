/**
 * One lock name as one adapter sees it: the dedicated session it holds or waits for the lock on
 * (opened on first use, replaced once lost), the lease held on it, the elections watching it, and
 * the follower wait (follower.ts) running on it while they wait. A lock the server hands to the
 * wait is kept for the elections to claim (`GRANT_HOLD`), then given back.
 */
import type { PrimacyBackendError } from '../../src/errors.js';
import { follow } from './follower.js';
import type { LockNames } from './names.js';
import type { MysqlServer } from './server.js';
import type { Session } from './session.js';
import { RELEASE_LOCK, type Statements } from './sql.js';
import { GRANT_HOLD, type Takeover } from './takeover.js';

/** The lease this adapter holds on the slot's session. */
export interface HeldLease {
  readonly holderId: string;
  readonly token: number;
  /** The session it is bound to (`Session.serial`). */
  readonly serial: number;
}

export interface SlotParts {
  readonly server: MysqlServer;
  readonly sql: Statements;
  readonly takeover: Takeover;
  readonly followerWait: number;
  readonly takeoverGrace: number;
}

export class LockSlot {
  readonly watchers = new Set<() => void>();
  lease: HeldLease | null = null;
  /** A takeover the follower wait could not make (refused KILL): thrown by the next acquire. */
  refusal: PrimacyBackendError | null = null;
  #session: Session | null = null;
  #opening: Promise<Session> | null = null;
  /** The session a follower wait runs on, if one does. */
  #following: Session | null = null;
  #grant: NodeJS.Timeout | null = null;
  #closed = false;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly names: LockNames,
    private readonly parts: SlotParts,
  ) {}

  /**
   * Runs `work` after the slot's earlier calls have settled: two elections of one adapter must not
   * both take the lock on the one session (`GET_LOCK` is re-entrant within a session).
   */
  inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#turn.then(work, work);
    this.#turn = next.catch(() => undefined);
    return next;
  }

  /** The slot's live session, opened if there is none (or it was lost). */
  async session(operation: string): Promise<Session> {
    if (this.#session?.alive) return this.#session;
    this.#opening ??= this.parts.server.openSession(operation).then(
      (session) => {
        this.#opening = null;
        if (this.#closed) {
          session.destroy();
          throw this.parts.server.error(operation, new Error('the lock is closed'));
        }
        this.#session = session;
        session.onLost(() => this.#lost(session));
        return session;
      },
      (error: unknown) => {
        this.#opening = null;
        throw error;
      },
    );
    return this.#opening;
  }

  /** The live session, if any, without opening one. */
  get current(): Session | null {
    return this.#session?.alive ? this.#session : null;
  }

  /** A follower wait runs on the session (it is busy, and the server will hand it the lock). */
  get following(): boolean {
    return this.#following !== null && this.#following === this.current;
  }

  /** The server handed the lock to our wait and no election has claimed it yet. */
  get granted(): boolean {
    return this.#grant !== null;
  }

  /** Claims a lock handed to the wait: the caller records its lease on the session now. */
  claimGrant(): Session | null {
    if (this.#grant === null) return null;
    clearTimeout(this.#grant);
    this.#grant = null;
    return this.current;
  }

  /** Someone watches, nothing is held: wait on the server for the lock (one wait at a time). */
  startFollowing(session: Session): void {
    if (this.following || this.#grant || this.lease || this.watchers.size === 0 || session !== this.current) return;
    this.#following = session;
    const { sql, takeover, followerWait, takeoverGrace, server } = this.parts;
    const active = () => !this.#closed && this.watchers.size > 0 && this.lease === null && this.#session === session;
    const onRefusal = (error: PrimacyBackendError) => {
      this.refusal = error;
      this.notify();
    };
    const names = this.names;
    follow({ session, names, sql, takeover, followerWait, takeoverGrace, timeout: server.timeout, active, onRefusal }).then(
      (outcome) => {
        if (this.#following === session) this.#following = null;
        if (outcome === 'granted') this.#holdGrant(session);
      },
      () => {
        // The session failed (lost, or a statement refused): start afresh from the next acquire.
        if (this.#following === session) this.#following = null;
        session.destroy();
      },
    );
  }

  /** Wakes the elections watching this lock. */
  notify(): void {
    for (const listener of [...this.watchers]) listener();
  }

  /** The last watcher left (its election stopped): close the session, unless it holds a lease. */
  unwatched(): void {
    if (this.watchers.size === 0 && !this.lease) void this.#drop();
  }

  /** Closes the session (the server frees what it held). */
  close(): Promise<void> {
    this.#closed = true;
    return this.#drop();
  }

  #holdGrant(session: Session): void {
    if (session !== this.current) {
      session.destroy(); // replaced meanwhile: a lock nobody will claim
      return;
    }
    if (this.#closed || this.watchers.size === 0) {
      void this.#drop();
      return;
    }
    this.#grant = setTimeout(() => {
      this.#grant = null;
      // Unclaimed (the elections here are not campaigning): give the lock back, to the next
      // watcher. Waiting again starts with the next acquire, else it would take the lock again.
      const bound = { ms: this.parts.server.timeout, operation: 'follow' };
      session.run(RELEASE_LOCK, [this.names.lock], bound).catch(() => session.destroy());
    }, GRANT_HOLD);
    this.#grant.unref();
    this.notify();
  }

  /**
   * Closes the session now. A wait blocked in the server outlives the closed socket until it ends
   * (the server notices the close only when it answers): harmless, as a lock or watch lock handed
   * to it then is freed at once, when the answer finds the socket closed.
   */
  #drop(): Promise<void> {
    const session = this.#session;
    if (this.#grant) clearTimeout(this.#grant);
    this.#grant = null;
    this.#session = null;
    this.#following = null;
    session?.destroy();
    return Promise.resolve();
  }

  #lost(session: Session): void {
    if (this.#session !== session) return;
    this.#session = null;
    this.#following = null;
    this.lease = null;
    if (this.#grant) clearTimeout(this.#grant);
    this.#grant = null;
    // A holder steps down (its lease is no longer intact), a follower campaigns on a new session.
    this.notify();
  }
}
