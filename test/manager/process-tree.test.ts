import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../harness/pids.js';
import { descendants, killTree } from '../../src/manager/process-tree.js';

describe('process tree kill', () => {
  it('finds and kills a process together with its children and grandchildren', async () => {
    // sh -> sleep (child) and sh -> sh -> sleep (grandchild)
    const root = spawn('sh', ['-c', 'sleep 60 & sh -c "sleep 60" & wait']);
    await new Promise((r) => setTimeout(r, 300));
    const tree = descendants(root.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    const exited = new Promise((r) => root.once('exit', r));
    killTree(root.pid as number);
    await exited;
    await new Promise((r) => setTimeout(r, 100));
    expect(tree.filter(isRunning)).toEqual([]);
  });
});
