/**
 * Fencing epochs that survive manager restarts: the last token per lock name is written to a file
 * (atomically, by rename) before a grant is handed out, so a restarted manager never reissues one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface EpochStore {
  next(name: string): number;
}

export class FileEpochStore implements EpochStore {
  readonly #last: Record<string, number>;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#last = readEpochs(path);
  }

  next(name: string): number {
    const token = (this.#last[name] ?? 0) + 1;
    this.#last[name] = token;
    const tmp = `${this.path}.${process.pid}.tmp`;
    // Synchronous on purpose: the grant must not leave the manager before its token is durable.
    writeFileSync(tmp, JSON.stringify(this.#last));
    renameSync(tmp, this.path);
    return token;
  }
}

function readEpochs(path: string): Record<string, number> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}
