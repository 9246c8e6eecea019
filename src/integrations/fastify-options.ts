import { checksFor } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import { Election } from '../elector.js';
import { ELECTION_OPTION_KEYS, type ElectionOptions, resolveOptions } from '../options.js';

/** What the Fastify plugin adds to the election's own options. */
export interface PrimacyPluginSettings {
  /**
   * The property the election is decorated as (`fastify.primacy`). Give a second registration in
   * the same app its own (with its own `name`); the TypeScript augmentation covers `primacy` only.
   * @default 'primacy'
   */
  decorator?: string;
  /**
   * A path such as `'/healthz'`: registers a GET route answering `electionHealth()` as JSON, with
   * status 200 when `ok` (primary, or a follower that can reach the backend), else 503.
   * @default none (no route)
   */
  healthRoute?: string;
}

/**
 * The plugin's options: `elect()`'s options (`name` required; `logger` defaults to `fastify.log`)
 * plus the plugin's settings. Or, instead of election options, an existing `election`: it is
 * decorated as it is (already campaigning), and not stopped on close: its owner stops it.
 */
export type PrimacyPluginOptions =
  | (ElectionOptions & PrimacyPluginSettings & { election?: undefined })
  | (PrimacyPluginSettings & { election: Election } & { [K in keyof ElectionOptions]?: undefined });

export interface ResolvedPluginOptions {
  decorator: string;
  healthRoute: string | undefined;
  election: Election | undefined;
  /** Only `elect()`'s own keys: Fastify's register options (`prefix`, ...) stay out. */
  electionOptions: ElectionOptions;
}

/** Keys Fastify reads from any plugin's register options and leaves in them. */
const FASTIFY_REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'];
const PLUGIN_KEYS = [
  ...ELECTION_OPTION_KEYS,
  ...optionKeys<PrimacyPluginSettings & { election?: Election }>({ decorator: true, healthRoute: true, election: true }),
  ...FASTIFY_REGISTER_KEYS,
];

/** Validates everything at registration, so a bad option fails `ready()` before anything campaigns. */
export function resolvePluginOptions(options: PrimacyPluginOptions): ResolvedPluginOptions {
  const check = checksFor('register(primacyPlugin)', 'fastify');
  check.options(options, PLUGIN_KEYS, 'an object with at least `name`');
  const { healthRoute, election } = options;
  const decorator = check.text('decorator', options.decorator, 'primacy');
  if (healthRoute !== undefined && (typeof healthRoute !== 'string' || !healthRoute.startsWith('/'))) {
    check.fail('healthRoute', healthRoute, "a path starting with '/' (such as '/healthz')");
  }
  const electionOptions = pickElectionOptions(options);
  if (election !== undefined) {
    if (!(election instanceof Election)) check.fail('election', election, 'an Election (from elect())');
    for (const key of ELECTION_OPTION_KEYS) {
      if (electionOptions[key] !== undefined) {
        check.fail(key, electionOptions[key], 'absent when `election` is given (that election has its own options)');
      }
    }
    return { decorator, healthRoute, election, electionOptions };
  }
  const { name } = electionOptions;
  if (typeof name !== 'string' || name === '') {
    check.fail('name', name, 'the lock name every instance of this app campaigns for (a non-empty string)');
  }
  resolveOptions(electionOptions); // Throws on the first bad option, naming it.
  return { decorator, healthRoute, election: undefined, electionOptions };
}

function pickElectionOptions(options: PrimacyPluginOptions): ElectionOptions {
  const picked: Record<string, unknown> = {};
  for (const key of ELECTION_OPTION_KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as unknown as ElectionOptions;
}
