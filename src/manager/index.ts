export { managerLock } from '../../adapters/manager.js';
export { askInspector, Inspector, type InspectorAddress, type InspectorRequest, type InspectorResponse } from './inspector.js';
export { type WorkerInfo, WorkerManager, type WorkerState } from './manager.js';
export type { ManagerOptions } from './options.js';
export { type FileWatch, type ReloadOnChangeOptions, reloadOnChange } from './reload-on-change.js';
export { worker } from './worker.js';
