import type { Application, Request, RequestHandler } from 'express';
import { checksFor } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import type { Election } from '../elector.js';
import { isElection } from './election-check.js';
import { electionHealth, type HealthOptions } from './health.js';

/**
 * An Express handler for a `/healthz` or readiness route: answers `electionHealth()` as JSON, with
 * status 200 when `ok` (primary, or a follower that can reach the lock's backend) and 503 otherwise
 * (backend unreachable, election stopped, or no election yet because the server does not listen).
 *
 * `source` is the election, or the app whose `app.locals.primacy` to read; by default the
 * requesting app's (`req.app.locals.primacy`), looked up on every request.
 */
export function primacyHealth(source?: Election | Application, options: HealthOptions = {}): RequestHandler {
  const check = checksFor('primacyHealth()', 'express');
  const isApp = typeof source === 'function';
  if (source !== undefined && !isApp && !isElection(source)) {
    check.fail('source', source, 'an Election, an Express app, or undefined (req.app)');
  }
  check.options(options, optionKeys<HealthOptions>({ timeout: true }));
  const timeout = check.duration('timeout', options.timeout, 1000, 1);
  const electionOf = (req: Request): Election | undefined =>
    source === undefined ? req.app.locals.primacy : isApp ? (source as Application).locals.primacy : (source as Election);

  return (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    const election = electionOf(req);
    if (election === undefined) {
      res.status(503).json({ ok: false, role: 'none', error: 'no primacy election on this app (its server is not listening yet)' });
      return;
    }
    // electionHealth never rejects; `next` is for a response that fails to serialize. Express 4 does
    // not catch a handler's rejected promise, so it must not get one.
    electionHealth(election, { timeout }).then((health) => void res.status(health.ok ? 200 : 503).json(health), next);
  };
}
