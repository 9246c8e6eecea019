/**
 * Idle cost on etcd: the gRPC messages the server received in the window, by method, from its
 * /metrics (`grpc_server_msg_received_total`: one per unary request and one per message on a
 * stream, such as each lease keep-alive; `grpc_server_handled_total` would miss the messages of
 * streams that stay open, as keep-alives and watches do). The scrapes are plain HTTP, not gRPC:
 * they add nothing to these counters. The holder's share is what its counting relay saw
 * (bench/counters/h2-proxy.ts).
 */
import { addTo, type IdleCounter, ranked, type WindowCount } from './count.js';
import type { CountingProxy } from './h2-proxy.js';

/** `grpc_server_msg_received_total` by method, from the text of a /metrics scrape. */
export function receivedMessages(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of metrics.matchAll(/^grpc_server_msg_received_total\{([^}]*)\} (\S+)$/gm)) {
    const method = /grpc_method="([^"]+)"/.exec(match[1] as string)?.[1] ?? '?';
    addTo(counts, method, Number(match[2]));
  }
  return counts;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return receivedMessages(await response.text());
}

export function etcdCounter(url: string, holderRelay: CountingProxy): IdleCounter {
  let before = new Map<string, number>();
  let holderBefore = 0;
  let start = 0;
  return {
    async begin() {
      before = await scrape(url);
      holderBefore = holderRelay.messages;
      start = performance.now();
    },
    async finish(): Promise<WindowCount> {
      const after = await scrape(url);
      const holder = holderRelay.messages - holderBefore;
      const seconds = (performance.now() - start) / 1000;
      const by = new Map<string, number>();
      for (const [method, count] of after) addTo(by, method, count - (before.get(method) ?? 0));
      const total = [...by.values()].reduce((a, b) => a + b, 0);
      return { seconds, total, holder, by: ranked(by), notes: [] };
    },
    async close() {},
  };
}
