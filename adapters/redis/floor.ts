/**
 * Per lock, the highest token this process has seen or held: the floor under the next token it
 * asks for, so tokens never go backwards even when the server's counter was lost (FLUSHALL, an
 * empty restart) or, for a quorum, a majority of the counters were.
 */
export class TokenFloor {
  readonly #floor = new Map<string, number>();

  /** The floor for `name` (0 if nothing seen): the next token must be above it. */
  of(name: string): number {
    return this.#floor.get(name) ?? 0;
  }

  /** `token` was seen or held for `name`. A token that is not a safe integer is no token of ours: ignored. */
  raise(name: string, token: number): void {
    if (Number.isSafeInteger(token) && token > this.of(name)) this.#floor.set(name, token);
  }
}
