export { managerLock } from '../../adapters/manager.js';
export type { CommandOutcome, CustomCommandInfo } from './command-registry.js';
export { askInspector, Inspector, type InspectorAddress, type InspectorRequest, type InspectorResponse } from './inspector.js';
export { type WorkerInfo, WorkerManager, type WorkerState } from './manager.js';
export type { ManagerOptions } from './options.js';
export { worker } from './worker.js';
export type { CommandHandler, CommandOptions } from './worker-commands.js';
export type { WorkerMode } from './worker-state.js';
