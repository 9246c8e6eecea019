#!/usr/bin/env node
import { runStatus } from './status.js';

// exitCode, not exit(): let stdout drain when it is a pipe.
process.exitCode = await runStatus(process.argv.slice(2), 'lock-status');
