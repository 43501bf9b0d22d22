// A local stand-in for the Hugging Face Hub, on 127.0.0.1 only: the endpoints pipegpt's client
// uses, answering the way huggingface.co does (model info at a revision, HEAD/GET
// resolve/<rev>/<file> with X-Repo-Commit, ETag, X-Linked-Etag/-Size and a 302 to a "CDN" path for
// LFS files, Range requests, 401 GatedRepo). Each repo can be made to misbehave (slow, corrupt,
// oversized, hostile ids) so the tests can check the client's defences. Every request is logged.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubFile { data: Buffer; lfs: boolean; sha256: string; gitSha1: string }

export interface HubRepo {
  commit: string;
  files: Map<string, HubFile>;
  gated?: boolean;                  // resolve needs `Bearer ${GOOD_TOKEN}`
  slow?: { chunk: number; ms: number };  // CDN bodies in chunks with pauses (to kill mid-download)
  corrupt?: boolean;                // CDN flips one byte of every LFS body (the ETag stays right)
  oversize?: number;                // CDN appends this many bytes to every LFS body
  infoSha?: string;                 // model info answers this as `sha`
  headCommit?: string;              // HEAD answers this as X-Repo-Commit
  etag?: string;                    // HEAD answers this as X-Linked-Etag / ETag
}

export interface LoggedRequest { method: string; path: string; range?: string; auth?: string }

export const GOOD_TOKEN = 'hf_test_token_with_access';
export const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

const sha = (algo: string, b: Buffer | string) => createHash(algo).update(b).digest('hex');

export function hubFile(data: Buffer, lfs: boolean): HubFile {
  return { data, lfs, sha256: sha('sha256', data), gitSha1: sha('sha1', Buffer.concat([Buffer.from(`blob ${data.length}\0`), data])) };
}

/** A repo holding every file of a local directory; *.safetensors (and *.bin) are LFS files. */
export function repoFromDir(dir: string, extra: Record<string, Buffer | string> = {}, commit = COMMIT): HubRepo {
  const files = new Map<string, HubFile>();
  for (const f of readdirSync(dir)) if (f !== 'golden.json') files.set(f, hubFile(readFileSync(join(dir, f)), /\.(safetensors|bin)$/.test(f)));
  for (const [f, d] of Object.entries(extra)) files.set(f, hubFile(Buffer.from(d), /\.(safetensors|bin)$/.test(f)));
  return { commit, files };
}

export class TestHub {
  readonly repos = new Map<string, HubRepo>();
  readonly log: LoggedRequest[] = [];
  readonly renamed = new Map<string, string>();   // old org/name → new: a relative 307, as the hub answers
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  /** GETs of file contents (each starts at resolve/; LFS ones then follow the 302 to /cdn/). */
  downloads(): LoggedRequest[] {
    return this.log.filter((r) => r.method === 'GET' && r.path.includes('/resolve/'));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURI((req.url ?? '/').split('?')[0]);
    this.log.push({ method: req.method ?? '', path, range: req.headers.range, auth: req.headers.authorization });
    for (const [from, to] of this.renamed) {
      if (path.startsWith(`/${from}/`) || path.startsWith(`/api/models/${from}/`)) {
        return void res.writeHead(307, { location: (req.url ?? '').replace(from, to) }).end();
      }
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
    if (m) return this.info(res, m[1], m[2]);
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m) return this.resolve(req, res, m[1], decodeURIComponent(m[2]), m[3]);
    m = /^\/cdn\/([^/]+)\/([0-9a-f]{64})$/.exec(path);
    if (m) return this.cdn(req, res, m[1].replace('~', '/'), m[2]);
    res.writeHead(404).end();
  }

  private error(res: ServerResponse, status: number, code: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, ...extra }).end(JSON.stringify({ error: code }));
  }

  private info(res: ServerResponse, name: string, rev: string): void {
    const repo = this.repos.get(name);
    if (!repo) return this.error(res, 401, 'RepositoryNotFound');
    if (rev !== 'main' && rev !== repo.commit) return this.error(res, 404, 'RevisionNotFound');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      _id: 'x', id: name, sha: repo.infoSha ?? repo.commit, private: false, gated: repo.gated ? 'manual' : false,
      downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z', siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
    }));
  }

  private resolve(req: IncomingMessage, res: ServerResponse, name: string, rev: string, file: string): void {
    const repo = this.repos.get(name);
    if (!repo) return this.error(res, 401, 'RepositoryNotFound');
    if (repo.gated && req.headers.authorization !== `Bearer ${GOOD_TOKEN}`) return this.error(res, 401, 'GatedRepo');
    if (rev !== 'main' && rev !== repo.commit) return this.error(res, 404, 'RevisionNotFound');
    const f = repo.files.get(file);
    const commit = repo.headCommit ?? repo.commit;
    if (!f) return this.error(res, 404, 'EntryNotFound', { 'x-repo-commit': commit });
    if (f.lfs) {
      res.writeHead(302, {
        location: `${this.url}/cdn/${name.replace('/', '~')}/${f.sha256}`, 'x-repo-commit': commit,
        'x-linked-etag': `"${repo.etag ?? f.sha256}"`, 'x-linked-size': String(f.data.length), etag: `"${f.gitSha1}"`, 'content-length': '0',
      }).end();
      return;
    }
    this.body(req, res, f.data, { 'x-repo-commit': commit, etag: `"${repo.etag ?? f.gitSha1}"` });
  }

  private cdn(req: IncomingMessage, res: ServerResponse, name: string, sha256: string): void {
    const repo = this.repos.get(name);
    const f = repo && [...repo.files.values()].find((x) => x.sha256 === sha256);
    if (!repo || !f) return void res.writeHead(404).end();
    let data = f.data;
    if (repo.corrupt) { data = Buffer.from(data); data[data.length >> 1] ^= 0xff; }
    if (repo.oversize) data = Buffer.concat([data, Buffer.alloc(repo.oversize, 7)]);
    this.body(req, res, data, {}, repo.slow);
  }

  /** 200 or 206 (bytes=N- / bytes=N-M), optionally dribbled out in chunks. */
  private body(req: IncomingMessage, res: ServerResponse, data: Buffer, headers: Record<string, string>, slow?: HubRepo['slow']): void {
    let start = 0, end = data.length - 1, status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), end) : end;
      if (start >= data.length) return void res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      status = 206;
      headers = { ...headers, 'content-range': `bytes ${start}-${end}/${data.length}` };
    }
    const part = data.subarray(start, end + 1);
    res.writeHead(status, { ...headers, 'content-length': String(part.length), 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    if (!slow) return void res.end(part);
    let off = 0;
    const tick = () => {
      if (res.destroyed) return;
      res.write(part.subarray(off, off + slow.chunk));
      off += slow.chunk;
      if (off >= part.length) res.end();
      else setTimeout(tick, slow.ms);
    };
    tick();
  }
}
