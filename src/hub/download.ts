// One blob: GET resolve/<commit>/<file> into blobs/<etag>.incomplete, resumed with a Range request
// after an interruption, cut off past the advertised size, hashed (sha256 for LFS ETags, git's
// blob sha1 for the others) and renamed into place only when size and hash match the ETag. A bad
// download is deleted, never left in blobs/ for a later run (or Python) to trust.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { HubError } from '../errors.js';
import { hubFetch, resolveUrl, type FileMeta, type HubClient } from './http.js';
import type { ByteProgress } from './progress.js';

const ATTEMPTS = 3;

function newHash(meta: FileMeta): Hash {
  if (meta.etag.length === 64) return createHash('sha256');
  // a 40-hex ETag is the git blob id of a small (non-LFS) file: sha1("blob <size>\0" + bytes)
  return createHash('sha1').update(`blob ${meta.size}\0`);
}

async function hashFile(path: string, h: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
}

/** Downloads into `blob` (an absolute path already checked to lie in the cache) and verifies it. */
export async function downloadBlob(c: HubClient, file: string, meta: FileMeta, blob: string, progress: ByteProgress): Promise<void> {
  const part = `${blob}.incomplete`;
  mkdirSync(dirname(blob), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchInto(c, file, meta, part, progress);
      break;
    } catch (e) {
      // only a dropped connection is retried (resuming); a refusal or a bad answer is final
      if (e instanceof HubError && e.code === 'hostile') await unlink(part).catch(() => undefined);
      if (!(e instanceof HubError) || e.code !== 'network' || attempt >= ATTEMPTS) throw e;
    }
  }
  const h = newHash(meta);
  await hashFile(part, h);
  const digest = h.digest('hex');
  if (digest !== meta.etag) {
    await unlink(part);
    throw new HubError('checksum', `${c.repo}/${file}: downloaded ${meta.size} bytes hash to ${digest}, but the hub's ETag is ${meta.etag}; ` +
      `the file was deleted, run the command again to download it afresh`);
  }
  await rename(part, blob);
}

/** Fills `part` up to meta.size bytes, resuming from what it already holds. */
async function fetchInto(c: HubClient, file: string, meta: FileMeta, part: string, progress: ByteProgress): Promise<void> {
  let start = existsSync(part) ? statSync(part).size : 0;
  if (start > meta.size) { await unlink(part); start = 0; }
  if (start === meta.size) return;
  const headers: Record<string, string> = start > 0 ? { range: `bytes=${start}-` } : {};
  const res = await hubFetch(c, resolveUrl(c, meta.commit, file), { headers }, file);
  if (start > 0 && res.status === 206 && !contentRangeFrom(res, start)) {
    await res.body?.cancel();
    throw new HubError('hostile', `${c.repo}/${file}: asked for bytes from ${start}, the hub answered Content-Range ${res.headers.get('content-range')}`);
  }
  if (res.status !== 206) start = 0; // the server ignored the range: start over
  progress.resumed(start);
  const fh = await open(part, start > 0 ? 'a' : 'w');
  try {
    const got = await copyBody(c, file, res, fh, meta.size - start, progress);
    if (got < meta.size - start) {
      throw new HubError('network', `${c.repo}/${file}: the connection ended after ${start + got} of ${meta.size} bytes; run again to resume`);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function contentRangeFrom(res: Response, start: number): boolean {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  return m !== null && Number(m[1]) === start;
}

/** Streams the body into fh; stops and rejects as soon as it would pass `limit` bytes. */
async function copyBody(c: HubClient, file: string, res: Response, fh: FileHandle, limit: number, progress: ByteProgress): Promise<number> {
  if (!res.body) return 0;
  let got = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        return got; // a dropped connection: what arrived is kept for the resume
      }
      if (r.done) return got;
      if (got + r.value.byteLength > limit) {
        await reader.cancel();
        throw new HubError('hostile', `${c.repo}/${file}: the hub sent more than the advertised ${limit} bytes; download cut off and deleted`);
      }
      await fh.write(r.value);
      got += r.value.byteLength;
      progress.add(r.value.byteLength);
    }
  } finally {
    reader.releaseLock();
  }
}
