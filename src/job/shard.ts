// Stable shard assignment: FNV-1a (32-bit) of the custom_id's UTF-8 bytes, mod the shard count.
// It depends on the id alone, so every shard (and every rerun) agrees without coordination.

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function shardOf(customId: string, numShards: number): number {
  return fnv1a32(customId) % numShards;
}

/** Natural order ("line-2" < "line-10"): how merge orders records without the original input. */
export const naturalCompare = new Intl.Collator('en', { numeric: true }).compare;
