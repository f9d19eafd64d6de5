// s3rver in-process: a real S3 implementation on 127.0.0.1 with one bucket, in a temp directory.
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ReportStore } from '../../src/reports/storage.js';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rverInstance;

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  dir: string;
  server: S3rverInstance;
  /** A report store on this server (path-style, two attempts so a stopped server fails fast). */
  store(): S3ReportStore;
  /** Stops the server (as a failing store would) and drops its connections. */
  stop(): Promise<void>;
  /** Stops the server if running and removes its directory. */
  close(): Promise<void>;
}

export async function startS3(bucket = 'reports'): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'seedtest-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    if (!stopped) {
      stopped = server.close();
      server.httpServer.closeAllConnections();
    }
    return stopped;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    server,
    stop,
    store: () =>
      new S3ReportStore({
        bucket,
        region: 'ap-northeast-2',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: S3_CREDENTIALS,
        maxAttempts: 2,
      }),
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
