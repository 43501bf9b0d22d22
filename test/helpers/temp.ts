// Temporary directories for a test file, removed once its tests are done (an ava after.always
// hook, registered when a test file first imports this module), so test runs leave nothing in /tmp.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
test.after.always('remove the temporary directories of this file', () => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory /tmp/pipegpt-<tag>-XXXXXX, removed after this file's tests. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pipegpt-${tag}-`));
  made.push(dir);
  return dir;
}
