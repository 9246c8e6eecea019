export { managerLock } from '../../adapters/manager.js';
export { askInspector, Inspector, type InspectorAddress, type InspectorRequest, type InspectorResponse } from './inspector.js';
export { type WorkerInfo, WorkerManager, type WorkerState } from './manager.js';
export type { ManagerOptions } from './options.js';
export { PrimacyRequestError, type RequestFailure } from './request-error.js';
export { worker } from './worker.js';
export type { RequestHandler, RequestOptions, RequestSender } from './worker-requests.js';
