/**
 * The Fastify plugin (`primacy/fastify`): one election per app, campaigned for on `onReady`,
 * released on `onClose`, reachable as `fastify.primacy` from routes and later hooks.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { settleWithin } from '../_internal/delay.js';
import { type Election, elect } from '../elector.js';
import { PrimacyConfigError, PrimacyError } from '../errors.js';
import { primacyLog } from '../structured-log.js';
import { type PrimacyPluginOptions, resolvePluginOptions } from './fastify-options.js';
import { electionHealth } from './health.js';

export type { PrimacyPluginOptions, PrimacyPluginSettings } from './fastify-options.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The app's election (registered by `primacy/fastify`). Created in `onReady`: read it in route
     * handlers and in `onReady` hooks added after the plugin, not while plugins are loading.
     * Under another `decorator` name, declare that property yourself.
     */
    primacy: Election;
  }
}

const plugin: FastifyPluginAsync<PrimacyPluginOptions> = async (fastify, options) => {
  const { decorator, healthRoute, election: given, electionOptions } = resolvePluginOptions(options);
  // Fastify itself would only say "decorator already present" (or, in a child context, silently
  // shadow the parent's election with a second one): say what went wrong and how to have two.
  if (fastify.hasDecorator(decorator)) {
    throw new PrimacyConfigError(
      'decorator',
      decorator,
      'a name not yet decorated on this Fastify instance (is primacy registered twice? a second election needs its own `decorator` and `name`)',
      'fastify',
    );
  }

  let election = given;
  if (given) {
    fastify.decorate(decorator, given);
  } else {
    // The election must not campaign before onReady (a half-booted app must not win and start
    // singleton work), and elect() campaigns at once, so it is created there; until then the
    // property explains itself instead of reading undefined.
    fastify.decorate(decorator, { getter: () => election ?? notReady(decorator) });
  }

  fastify.addHook('onReady', async () => {
    // Plugins log through the app's logger. handleSignals keeps elect()'s default (true) on
    // purpose: on SIGTERM the lock is released at once, so the next primary takes over while this
    // app drains; an app that closes itself on SIGTERM (close-with-grace) then finds stop() done,
    // and primacy re-raises the signal only when nobody else handles it.
    election ??= elect({ ...electionOptions, logger: electionOptions.logger ?? fastify.log });
    // Listening starts after this: once ready()/listen() resolves, isPrimary is meaningful. An
    // unreachable backend ends the first round at once (as a follower); one that accepts
    // connections but does not answer could hold it for a whole TTL, past Fastify's plugin timeout
    // (AVV_ERR_READY_TIMEOUT): after half of that timeout the app boots as a follower, and the
    // election goes on campaigning.
    const { pluginTimeout } = fastify.initialConfig;
    if (!pluginTimeout)
      await election.ready; // 0: Fastify waits for ever, so do we
    else if ((await settleWithin(election.ready, pluginTimeout / 2)) === 'timeout') {
      primacyLog(fastify.log, { primacy: { election: election.name } }).warn(
        `[primacy] [fastify] the first round for "${election.name}" is not over after ${pluginTimeout / 2} ms (half of pluginTimeout): serving as a follower meanwhile`,
        { waitedMs: pluginTimeout / 2 },
      );
    }
  });

  fastify.addHook('onClose', async () => {
    // An election handed in by the caller is theirs to stop (it may outlive this app).
    if (!given) await election?.stop();
  });

  if (healthRoute !== undefined) {
    fastify.get(healthRoute, async (_request, reply) => {
      const health = await electionHealth(current(fastify, decorator));
      return reply.code(health.ok ? 200 : 503).send(health);
    });
  }
};

function current(fastify: FastifyInstance, decorator: string): Election {
  return (fastify as unknown as Record<string, Election>)[decorator] as Election;
}

function notReady(decorator: string): never {
  throw new PrimacyError(
    'ERR_PRIMACY_NOT_READY',
    `[primacy] [fastify] \`fastify.${decorator}\` is created in onReady (the election must not campaign earlier): ` +
      'read it in route handlers, or in an onReady hook added after registering primacy',
  );
}

/**
 * The Fastify plugin: `app.register(primacyPlugin, { name: 'reports', lock: redisLock({ url }) })`.
 * Decorates `fastify.primacy` (see `decorator`), campaigns on `onReady` and awaits the first round
 * (so `fastify.primacy.isPrimary` is meaningful once `ready()`/`listen()` resolves; a backend that
 * cannot be reached makes the app boot as a follower, which becomes primary once it can), stops the
 * election and releases the lock on `onClose`, and optionally serves a health route.
 * Registering it twice under one decorator name is an error.
 */
export const primacyPlugin = fp(plugin, { name: 'primacy', fastify: '4.x || 5.x' });

export default primacyPlugin;
