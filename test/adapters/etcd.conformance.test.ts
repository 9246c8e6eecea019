import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll } from 'vitest';
import { etcdLock } from '../../adapters/etcd.js';
import { describeLockAdapter } from '../conformance.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';

let server: EtcdServer;
beforeAll(async () => {
  server = await startEtcd();
});
afterAll(() => server?.stop());

describeLockAdapter('etcd', async () => {
  const clients: Etcd3[] = [];
  const prefix = `conformance-${Math.random().toString(36).slice(2)}/`;
  return {
    make: () => {
      const client = new Etcd3({ hosts: server.urls });
      clients.push(client);
      return etcdLock({ client, prefix });
    },
    breakBackend: async () => {
      for (const client of clients) client.close();
    },
    cleanup: async () => {
      for (const client of clients) client.close();
    },
  };
});
