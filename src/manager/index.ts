export { managerLock } from '../../adapters/manager.js';
export { type WorkerInfo, WorkerManager, type WorkerState } from './manager.js';
export type { ManagerOptions } from './options.js';
export { worker } from './worker.js';
