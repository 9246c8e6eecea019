/**
 * What the adapters under `adapters/` use of the core, besides the contract (`adapter.ts`) and the
 * errors (`errors.ts`): those three modules are all an adapter may import from `src/`
 * (test/adapters/adapter-kit.test.ts holds every adapter to it). So this list is what a new backend
 * builds with, and the core's internals can move without an adapter noticing:
 *
 * - option checks (`checksFor`, `optionKeys`): every adapter checks its options in its constructor;
 * - backend errors (`fileSystemError`, `unreachableError`, ...): failures worded alike by every adapter;
 * - `bounded`: a call that may hang (a paused server, a hung mount), cut short with a backend error;
 * - the per-user private directory (the file lock's default home) and how owners and modes are described;
 * - `mkdirpSync`, `parseOutcome` (a stored `runOnce` outcome), `isHolderDead` (same-host liveness);
 * - the manager's IPC contract, for the lock of managed workers (adapters/manager.ts).
 */
export {
  asBackendError,
  causeText,
  fileSystemError,
  type NodeFailure,
  noQuorumError,
  reasonOf,
  serverError,
  unreachableError,
} from './_internal/backend-errors.js';
export { bounded } from './_internal/bounded.js';
export { type Checks, checksFor, MAX_DELAY } from './_internal/checks.js';
export { mkdirpSync } from './_internal/mkdirp.js';
export { parseOutcome } from './_internal/outcome.js';
export {
  describeGroup,
  describeOwner,
  ensurePrivateDir,
  octal,
  privateDirProblem,
  privateDirRefusal,
  privateRoot,
} from './_internal/private-dir.js';
export { optionKeys } from './_internal/unknown-keys.js';
export { isHolderDead } from './identity.js';
export { isManaged, isPrimacyMessage, type LockOp, type ManagerMessage, type WorkerMessage } from './manager/protocol.js';
