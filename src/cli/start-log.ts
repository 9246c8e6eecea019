/** What `primacy start` tells its operator about the manager's decisions, one `[primacy] [manager]` line each. */
import { prefixed } from '../logger.js';
import type { WorkerInfo, WorkerManager } from '../manager/manager.js';
import { formatLine, type OutputFormat } from '../manager/output.js';

const megabytes = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** Subscribes the log lines to `manager`'s events; returns the log function for the CLI's own lines. */
export function startLog(manager: WorkerManager, format: OutputFormat): (text: string) => void {
  // One prefix per line: the manager's errors (start failed...) carry theirs already.
  const log = (text: string) => process.stderr.write(managerLine(format, prefixed('manager', text)));
  manager.on('warning', (message: string) => process.stderr.write(managerLine(format, message)));
  manager.on('restarting', (w: WorkerInfo, delay: number) => log(`${w.name} exited; restarting in ${delay} ms`));
  manager.on('failed', (w: WorkerInfo, reason: string) => log(`${w.name} FAILED: ${reason}`));
  manager.on('hung', (w: WorkerInfo, silent: number) =>
    log(`${w.name} (pid ${w.pid}) sent no heartbeat for ${Math.round(silent)} ms: killed`),
  );
  manager.on('unhealthy', (w: WorkerInfo, reason: string) => log(`${w.name} (pid ${w.pid}) is unhealthy (${reason}): killed`));
  manager.on('memory', (w: WorkerInfo, rss: number, limit: number) =>
    log(`${w.name} (pid ${w.pid}) uses ${megabytes(rss)}, above its ${megabytes(limit)} limit: replacing it without downtime`),
  );
  manager.on('restarted', (w: WorkerInfo) => log(`${w.name} replaced: pid ${w.pid}`));
  return log;
}

/**
 * One of the manager's own lines (on stderr). In JSON it is an object like its workers' lines,
 * named "manager"; `[primacy] [manager]` is then said by the name (another scope's prefix stays).
 */
function managerLine(format: OutputFormat, text: string): string {
  if (format !== 'json') return `${text}\n`;
  return formatLine('json', { name: 'manager', pid: process.pid }, 'stderr', text.replace(/^\[primacy\] \[manager\] /, ''));
}
