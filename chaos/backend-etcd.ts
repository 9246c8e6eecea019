/**
 * Private etcd for a run (test/helpers/etcd-server.ts): one member (`etcd`) or a cluster of three
 * (`etcd-cluster`), paused, killed and started again with their data (revisions, hence tokens,
 * go on rising), and an admin client that revokes the lock holder's etcd lease, as an operator
 * (`etcdctl lease revoke`) or a misbehaving tool would: the holder's key goes with its lease.
 */
import { Etcd3 } from 'etcd3';
import { resolveEtcdOptions } from '../adapters/etcd/options.js';
import { parseRecord, type StoredKey, tokenOf } from '../adapters/etcd/record.js';
import { type EtcdMember, startEtcd, startEtcdCluster } from '../test/helpers/etcd-server.js';
import { type Backend, lacking, within } from './backend.js';

/** How long the admin client's requests may take together. */
const ADMIN_TIMEOUT = 2000;

export async function startEtcdBackend(count: 1 | 3): Promise<Backend> {
  const etcd = count === 1 ? await startEtcd() : await startEtcdCluster(3);
  const { prefix } = resolveEtcdOptions({ hosts: etcd.urls });
  const each = (nodes: readonly number[]) => nodes.map((i) => etcd.members[i] as EtcdMember);
  const admin = async <T>(use: (client: Etcd3) => Promise<T>): Promise<T> => {
    const hosts = etcd.members.filter((m) => m.running).map((m) => m.url);
    const client = new Etcd3({
      hosts,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ADMIN_TIMEOUT }),
    });
    try {
      return await within(ADMIN_TIMEOUT, `etcd at ${hosts.join(', ')}`, use(client));
    } finally {
      client.close();
    }
  };
  return {
    ...lacking(count === 1 ? 'etcd' : 'etcd-cluster'),
    where: etcd.urls.join(','),
    nodes: count,
    pause: async (nodes) => {
      await Promise.all(each(nodes).map((m) => m.pause()));
    },
    resume: (nodes) => {
      for (const m of each(nodes)) m.resume();
    },
    down: async (nodes) => {
      await Promise.all(each(nodes).map((m) => m.kill()));
    },
    // Restarted members of a cluster wait for each other (a majority's quorum): start them together.
    up: async (nodes) => {
      await Promise.all(each(nodes).map((m) => m.start()));
    },
    // The lease the lock key is attached to, revoked only if the key's record names the primary's
    // pid and the token key stands for its token (lock/token keys: adapters/etcd/keys.ts).
    endHolder: (name, holder) =>
      admin(async (client) => {
        const [lock, token] = await Promise.all([client.get(`${prefix}${name}/lock`).exec(), client.get(`${prefix}${name}/token`).exec()]);
        const key = lock.kvs[0] as StoredKey | undefined;
        const counter = token.kvs[0] as StoredKey | undefined;
        const record = parseRecord(key?.value);
        if (!key || !counter || record?.holder.pid !== holder.pid || tokenOf(counter) !== holder.token || key.lease === '0') return null;
        await client.leaseClient.leaseRevoke({ ID: key.lease });
        return `lease ${key.lease} of pid ${holder.pid} (token ${holder.token}) revoked`;
      }),
    close: () => etcd.stop(),
    pids: () => etcd.members.map((m) => m.pid).filter((pid) => pid > 0),
  };
}
