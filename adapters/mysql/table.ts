/**
 * The fencing table, created on first use. Where the table exists a look is enough (`CREATE`
 * itself would need the CREATE privilege even then); where it is missing and this user may not
 * create it, the error says which statement an administrator should run, and what to grant.
 */
import { PrimacyBackendError } from '../../src/errors.js';
import type { Session, StatementBound } from './session.js';
import type { Statements } from './sql.js';

/** ER_NO_SUCH_TABLE. */
export const NO_SUCH_TABLE = 1146;
/** ER_TABLEACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR. */
const DENIED = new Set([1142, 1044, 1045, 1227]);

export class FencingTable {
  #ready: Promise<void> | undefined;

  constructor(
    /** As given: `name` or `schema.name`. */
    readonly name: string,
    private readonly sql: Statements,
  ) {}

  /** Resolves once the table exists (checked once per lock; a failure is checked again next time). */
  ensure(session: Session, bound: StatementBound): Promise<void> {
    this.#ready ??= this.#create(session, bound);
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  /** The table was found missing after all (dropped): the next `ensure` creates it again. */
  forget(): void {
    this.#ready = undefined;
  }

  async #create(session: Session, bound: StatementBound): Promise<void> {
    try {
      await session.run(this.sql.probe, [], bound);
      return;
    } catch (error) {
      if ((error as { errno?: number }).errno !== NO_SUCH_TABLE) throw error;
    }
    try {
      await session.run(this.sql.create, [], bound);
    } catch (error) {
      if (!DENIED.has((error as { errno?: number }).errno as number)) throw error;
      throw new PrimacyBackendError(
        'mysql',
        bound.operation,
        `the lock table ${this.name} is missing and this user may not create it (${(error as Error).message}). ` +
          `Have an administrator run:\n${this.sql.create};\nGRANT SELECT, INSERT, UPDATE ON ${this.name} TO <this user>;`,
        { cause: error },
      );
    }
  }
}
