import { once } from 'node:events';
import { connect as http2Connect, createServer as http2Server } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { receivedMessages } from '../../bench/counters/etcd.js';
import { dataFrameCounter, startCountingProxy } from '../../bench/counters/h2-proxy.js';
import { loggedStatements, statementKind } from '../../bench/counters/postgres.js';
import { GROUPS, selection } from '../../bench/ids.js';

/** One HTTP/2 frame: 9-byte header (length, type, flags, stream id), then the payload. */
function frame(type: number, length: number, stream = 1): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, Buffer.alloc(length, 7)]);
}

describe('BENCH_ONLY', () => {
  it('runs everything without it, and a group or an id with it', () => {
    expect(selection(undefined).selected('etcd3-election')).toBe(true);
    const postgres = selection('postgres');
    expect(postgres.only).toEqual(['postgres']);
    expect(['primacy-postgres', 'pg-advisory-loop'].every(postgres.selected)).toBe(true);
    expect(postgres.selected('primacy-mysql')).toBe(false);
    expect(postgres.selected('idle-postgres')).toBe(false);
    expect(GROUPS['sql-etcd']?.filter(selection('sql-etcd').selected)).toHaveLength(6);
    const idle = selection(' idle-per-lock , primacy-file');
    expect(['idle-redis', 'idle-redlock', 'idle-postgres', 'idle-mysql', 'idle-etcd', 'primacy-file'].every(idle.selected)).toBe(true);
    expect(idle.selected('primacy-redis')).toBe(false);
  });

  it('refuses a name that is neither an id nor a group, and lists what it knows', () => {
    expect(() => selection('postgress')).toThrow(/unknown id postgress \(groups: .*sql-etcd.*idle-per-lock.*; ids: .*etcd3-election/);
  });
});

describe('idle counters', () => {
  it('counts the client DATA frames that carry a message, however the bytes are split', () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const stream = Buffer.concat([preface, frame(4, 6, 0), frame(1, 10), frame(0, 12), frame(0, 0), frame(8, 4, 0), frame(0, 5, 3)]);
    for (const size of [stream.length, 1, 7, 9, 10]) {
      let messages = 0;
      const feed = dataFrameCounter(() => messages++);
      for (let at = 0; at < stream.length; at += size) feed(stream.subarray(at, at + size));
      expect(messages, `chunks of ${size}`).toBe(2);
    }
  });

  it('counts the requests with a body that a real HTTP/2 client sends through the relay', async () => {
    const server = http2Server((request, response) => {
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const relay = await startCountingProxy(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    const client = http2Connect(relay.url);
    try {
      const send = (method: string, body?: string) =>
        new Promise<void>((resolve, reject) => {
          const request = client.request({ ':method': method, ':path': '/' });
          request.on('error', reject);
          request.on('end', () => resolve());
          request.resume();
          request.end(body);
        });
      await send('POST', 'one');
      await send('POST', 'two');
      await send('GET');
      await send('POST', 'three');
      expect(relay.messages).toBe(3);
    } finally {
      client.close();
      await relay.close();
      server.close();
    }
  });

  it("reads PostgreSQL's statement log: time, session, statement; other lines and continuations left out", () => {
    const log = [
      '1767225600.125|bench-holder|LOG:  statement: SELECT pg_try_advisory_lock(1, 2)',
      '1767225600.250|bench-follower|LOG:  execute <unnamed>: SELECT a.got, pg_backend_pid() FROM t',
      '1767225600.300|bench-follower|LOG:  execute S_1: UPDATE "primacy_locks"',
      '\tSET holder = $1',
      '1767225600.400||LOG:  checkpoint starting: time',
      '1767225600.500|psql|ERROR:  syntax error at or near "x"',
    ].join('\n');
    expect(loggedStatements(log)).toEqual([
      { time: 1767225600.125, application: 'bench-holder', text: 'SELECT pg_try_advisory_lock(1, 2)' },
      { time: 1767225600.25, application: 'bench-follower', text: 'SELECT a.got, pg_backend_pid() FROM t' },
      { time: 1767225600.3, application: 'bench-follower', text: 'UPDATE "primacy_locks"' },
    ]);
    expect(statementKind('SELECT  pg_try_advisory_lock(1, 2)')).toBe('SELECT pg_try_advisory_lock');
    expect(statementKind('LISTEN "primacy_locks"')).toBe('LISTEN "primacy_locks"');
  });

  it("sums etcd's received gRPC messages by method over every code and type", () => {
    const metrics = [
      '# TYPE grpc_server_msg_received_total counter',
      'grpc_server_msg_received_total{grpc_method="Txn",grpc_service="etcdserverpb.KV",grpc_type="unary"} 7',
      'grpc_server_msg_received_total{grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"} 12',
      'grpc_server_handled_total{grpc_code="OK",grpc_method="Txn",grpc_service="etcdserverpb.KV",grpc_type="unary"} 7',
      'grpc_server_msg_received_total{grpc_method="Txn",grpc_service="other",grpc_type="unary"} 1',
    ].join('\n');
    expect(receivedMessages(metrics)).toEqual(
      new Map([
        ['Txn', 8],
        ['LeaseKeepAlive', 12],
      ]),
    );
  });
});
