// Where rendered reports are kept: the filesystem under DATA_DIR by default, S3 (or an S3-compatible
// server) when a bucket is configured. Settings come from the caller (config.reports); nothing here
// reads the environment.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Edition } from './view-model.js';

export type ReportFormat = 'html' | 'pdf';

export const CONTENT_TYPES: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
};

/**
 * The stable download URL of a report row (the API authorises, then streams or redirects). Without
 * a public base URL it is the path alone: the API answers it wherever it is served.
 */
export function downloadUrl(publicBaseUrl: string | undefined, id: string): string {
  return `${publicBaseUrl ?? ''}/api/seedtest/reports/${id}/download`;
}

export interface ReportStore {
  /** Stores the whole object or nothing: a reader never sees a partial report. */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The object's bytes; rejects with ReportNotFoundError when there is none. */
  get(key: string): Promise<Readable>;
  /** A time-limited URL for a direct download (object stores only). */
  presignedUrl?(key: string, ttlSeconds: number): Promise<string>;
  /** Releases pooled connections (object stores only). */
  close?(): void;
}

export class ReportNotFoundError extends Error {
  override name = 'ReportNotFoundError';
}

/** `reports/{user_id}/{week_start}/{edition}.{format}`, with the user id made safe as one path segment. */
export function reportKey(userId: string, weekStart: string, edition: Edition, format: ReportFormat): string {
  const user = encodeURIComponent(userId);
  if (user === '' || user === '.' || user === '..')
    throw new Error(`user id unusable in a storage key: "${userId}"`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(weekStart))
    throw new Error(`week start must be YYYY-MM-DD, got "${weekStart}"`);
  return `reports/${user}/${weekStart}/${edition}.${format}`;
}

/** Keys live under `root` (DATA_DIR): `reports/…` becomes `DATA_DIR/reports/…`. */
export class FsReportStore implements ReportStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`storage key escapes the store: "${key}"`);
    return path;
  }

  /** A file has no content type: the download route derives it from the key's extension. */
  async put(key: string, bytes: Buffer, _contentType: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write a temporary file in the same directory, flush it, then rename over the target: readers see
    // the old report or the new one, never a torn file, even if the process dies mid-write.
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(bytes);
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.path(key);
    try {
      await stat(path);
    } catch {
      throw new ReportNotFoundError(`no report at ${key}`);
    }
    return createReadStream(path);
  }
}

export interface S3StoreSettings {
  bucket: string;
  region: string;
  /** For S3-compatible servers (MinIO, s3rver, …). */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Total tries per request, including the first (SDK standard retry mode: backoff with jitter). */
  maxAttempts?: number;
  /** Default: the SDK's provider chain (environment, profile, instance role). */
  credentials?: S3ClientConfig['credentials'];
}

/** The AWS SDK and a client: loaded on the first request (~6 MB of heap a server that never stores does not pay). */
interface S3Connection {
  client: S3Client;
  sdk: typeof import('@aws-sdk/client-s3');
  getSignedUrl: typeof import('@aws-sdk/s3-request-presigner').getSignedUrl;
}

export class S3ReportStore implements ReportStore {
  private readonly bucket: string;
  private readonly settings: S3StoreSettings;
  private connection: Promise<S3Connection> | undefined;

  constructor(settings: S3StoreSettings) {
    this.bucket = settings.bucket;
    this.settings = settings;
  }

  private connect(): Promise<S3Connection> {
    this.connection ??= (async () => {
      const [sdk, presigner] = await Promise.all([
        import('@aws-sdk/client-s3'),
        import('@aws-sdk/s3-request-presigner'),
      ]);
      const { settings } = this;
      const client = new sdk.S3Client({
        region: settings.region,
        endpoint: settings.endpoint,
        forcePathStyle: settings.forcePathStyle ?? false,
        credentials: settings.credentials,
        // Without these, S3-compatible servers stored streamed uploads with the chunk framing (spec/stack.md).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // 'standard' retries throttling, 5xx and connection errors with exponential backoff and jitter.
        retryMode: 'standard',
        maxAttempts: settings.maxAttempts ?? 4,
      });
      return { client, sdk, getSignedUrl: presigner.getSignedUrl };
    })();
    return this.connection;
  }

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    const { client, sdk } = await this.connect();
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        ContentLength: bytes.length,
        ServerSideEncryption: 'AES256',
      }),
    );
  }

  async get(key: string): Promise<Readable> {
    const { client, sdk } = await this.connect();
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return res.Body as Readable;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey')
        throw new ReportNotFoundError(`no report at ${key}`);
      throw err;
    }
  }

  async presignedUrl(key: string, ttlSeconds: number): Promise<string> {
    const { client, sdk, getSignedUrl } = await this.connect();
    return getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: ttlSeconds,
    });
  }

  /** Closes the client's pooled connections. */
  close(): void {
    void this.connection?.then(({ client }) => client.destroy());
  }
}

/** The store the configuration selects: S3 when a bucket is set, else the filesystem under dataDir. */
export function createReportStore(settings: {
  dataDir: string;
  s3Bucket?: string;
  s3Endpoint?: string;
  s3ForcePathStyle: boolean;
  awsRegion: string;
}): ReportStore {
  return settings.s3Bucket
    ? new S3ReportStore({
        bucket: settings.s3Bucket,
        region: settings.awsRegion,
        endpoint: settings.s3Endpoint,
        forcePathStyle: settings.s3ForcePathStyle,
      })
    : new FsReportStore(settings.dataDir);
}
