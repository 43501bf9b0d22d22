// adviseHugePages: the 2 MiB-aligned part of a large buffer is advised (native addon on Linux),
// small buffers are left alone, and the buffer's contents behave as before.
import test from 'ava';
import { addon, loadAddon } from '../../src/kernels/native/addon.js';
import { adviseHugePages, fixMallocThreshold } from '../../src/kernels/native/huge-pages.js';

const MiB = 2 ** 20;
const why = loadAddon() ?? (process.platform !== 'linux' ? `platform ${process.platform}` : null);

(why ? test.skip : test)(`a 9 MiB buffer gets its 2 MiB-aligned interior advised${why ? ` (skipped: ${why})` : ''}`, (t) => {
  const buf = new SharedArrayBuffer(9 * MiB);
  const advised = adviseHugePages(buf);
  // the aligned interior of 9 MiB starting anywhere holds at least 3 and at most 4 huge pages
  t.true(advised === 6 * MiB || advised === 8 * MiB, `advised ${advised / MiB} MiB`);
  const f = new Float32Array(buf);
  for (let i = 0; i < f.length; i += 4099) f[i] = i;
  let bad = 0;
  for (let i = 0; i < f.length; i++) if (f[i] !== (i % 4099 === 0 ? i : 0)) bad++;
  t.is(bad, 0);
});

test('buffers under 2 MiB are not advised', (t) => {
  t.is(adviseHugePages(new SharedArrayBuffer(MiB)), 0);
});

// Its effect on RSS is the bench's to show (bench/README.md): a process's RSS moves with GC timing
// too much for a test. Here: glibc takes the setting, and a bad size is refused.
const glibc = !why && (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
(glibc ? test : test.skip)(`fixMallocThreshold sets glibc's mmap threshold${glibc ? '' : ' (skipped: needs the addon on glibc)'}`, (t) => {
  t.true(fixMallocThreshold());
  t.throws(() => addon().mallocThreshold(-1), { instanceOf: TypeError, message: /mallocThreshold: bytes must be a non-negative integer/ });
});
