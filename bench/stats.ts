// Small statistics shared by the benchmarks.

/** The median of xs (the upper middle element for an even count). */
export const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
