/**
 * A TCP relay in front of an etcd member that counts the gRPC messages a client sends through it:
 * gRPC runs over HTTP/2, and every message a client sends (a unary request, or one message on a
 * stream such as a lease keep-alive) travels in a DATA frame of its own (etcd's are far below the
 * 16 KB frame limit). So the client-to-server DATA frames that carry bytes are its requests; empty
 * ones only end a stream, and HEADERS, SETTINGS, PING and WINDOW_UPDATE frames are transport.
 * The idle count gives the holder this relay, to tell its requests from its followers'.
 */
import { connect, createServer, type Socket } from 'node:net';

/** HTTP/2's client connection preface: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`. */
const PREFACE_BYTES = 24;
const FRAME_HEADER_BYTES = 9;
const DATA = 0;

/** A parser of one client-to-server byte stream that calls `onMessage` for every DATA frame with a payload. */
export function dataFrameCounter(onMessage: () => void): (chunk: Buffer) => void {
  let preface = PREFACE_BYTES;
  let skip = 0;
  let header = Buffer.alloc(0);
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (preface > 0 || skip > 0) {
        const n = Math.min(preface || skip, chunk.length - at);
        if (preface > 0) preface -= n;
        else skip -= n;
        at += n;
        continue;
      }
      const take = chunk.subarray(at, at + FRAME_HEADER_BYTES - header.length);
      header = Buffer.concat([header, take]);
      at += take.length;
      if (header.length < FRAME_HEADER_BYTES) continue;
      const length = header.readUIntBE(0, 3);
      if (header[3] === DATA && length > 0) onMessage();
      skip = length;
      header = Buffer.alloc(0);
    }
  };
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: the URL to give the client instead of the member's. */
  readonly url: string;
  /** Messages sent through it so far. */
  readonly messages: number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let messages = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on(
      'data',
      dataFrameCounter(() => messages++),
    );
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get messages() {
      return messages;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
