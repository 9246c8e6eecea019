/**
 * The follower's judgment of a Postgres lock's holder (sightings.ts), on an injected monotonic
 * clock: a holder on our own clock is over at the end its note states; any other once its row has
 * been unchanged for one TTL (plus drift) since we first saw it; the server's wall clock (the row's
 * timestamps) never decides.
 */
import { describe, expect, it } from 'vitest';
import { DRIFT_FACTOR, DRIFT_MARGIN, HolderSightings, type SightedRow } from '../../adapters/postgres/sightings.js';

const ttl = 1000;
const wait = ttl * (1 + DRIFT_FACTOR) + DRIFT_MARGIN;

function rowOf(fields: Partial<SightedRow> & { clock?: string; expiresAt?: number; noteTtl?: number } = {}): SightedRow {
  const { clock = 'elsewhere', expiresAt = 0, noteTtl = ttl, ...row } = fields;
  return {
    token: '7',
    state: 'held',
    backend_pid: 42,
    renewed_us: '1000000',
    ttl_ms: ttl,
    holder: { id: 'h', _lease: { clock, expiresAt, ttl: noteTtl } },
    ...row,
  };
}

describe('HolderSightings', () => {
  it('a holder on our own clock is over once the end its note states has passed, at first sight', () => {
    let now = 5000;
    const sightings = new HolderSightings('our-clock', () => now);
    expect(sightings.see('a', rowOf({ clock: 'our-clock', expiresAt: 5500 }), now).over).toBe(false);
    now = 5501;
    expect(sightings.see('a', rowOf({ clock: 'our-clock', expiresAt: 5500 }), now).over).toBe(true);
    expect(new HolderSightings('our-clock', () => now).see('b', rowOf({ clock: 'our-clock', expiresAt: 5500 }), now).over).toBe(true);
  });

  it('any other holder: one TTL plus drift after we first saw its row as it is; a renew starts it again', () => {
    let now = 0;
    const sightings = new HolderSightings('our-clock', () => now);
    expect(sightings.see('a', rowOf(), now)).toEqual({ over: false, unchangedFor: 0 });
    now = wait - 1;
    expect(sightings.see('a', rowOf(), now).over).toBe(false);
    now = wait + 1;
    expect(sightings.see('a', rowOf({ renewed_us: '1000001' }), now).over).toBe(false); // renewed: seen anew
    now = 2 * wait + 2;
    expect(sightings.see('a', rowOf({ renewed_us: '1000001' }), now)).toEqual({ over: true, unchangedFor: wait + 1 });
  });

  it('reads the TTL from the note, so a row whose expires_at was moved (a clock step, an edit) changes nothing', () => {
    let now = 0;
    const sightings = new HolderSightings(null, () => now);
    const stepped = rowOf({ ttl_ms: -3_600_000 + ttl }); // expires_at an hour back, renewed_at not
    sightings.see('a', stepped, now);
    now = wait - 1;
    expect(sightings.see('a', stepped, now).over).toBe(false);
    now = wait + 1;
    expect(sightings.see('a', stepped, now).over).toBe(true);
  });

  it('a released or free row is no holder', () => {
    const sightings = new HolderSightings('our-clock', () => 10_000);
    expect(sightings.see('a', rowOf({ state: 'released', clock: 'our-clock', expiresAt: 1 }), 10_000).over).toBe(false);
    expect(sightings.see('a', rowOf({ backend_pid: null, clock: 'our-clock', expiresAt: 1 }), 10_000).over).toBe(false);
  });
});
