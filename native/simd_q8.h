// The q8_dots kernel body shared by the avx2-fma and avx512-vnni paths (included by
// simd_avx2_q8.cc and simd_avx512.cc, each with its own target attribute PG_Q8_TARGET and its
// own 32-byte dot PG_Q8_DOT(|w| as u8, x·sign(w) as s8) → 8 int32 lane sums).
// Per activation row and block, the 16 weight rows' 32-byte products become 16 vectors of 8 lane
// sums; two hadd trees reduce them to the 16 block sums S_b (int32: any order is exact).

// v[0..7] → lanes [Σv0, Σv1, ..., Σv7]
PG_Q8_TARGET static inline __m256i reduce8(const __m256i* v) {
  const __m256i t0 = _mm256_hadd_epi32(v[0], v[1]), t1 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i t2 = _mm256_hadd_epi32(v[4], v[5]), t3 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i u0 = _mm256_hadd_epi32(t0, t1), u1 = _mm256_hadd_epi32(t2, t3);  // [v0..v3 | v4..v7] per 128-bit half
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

// Two activation rows share each weight load and |w|.
PG_Q8_TARGET static void q8_dots_simd(int32_t* dst, const int8_t* xq, i64 n, const int8_t* w, i64 ldw, i64 Ip) {
  const i64 nb = Ip / 32;
  i64 r = 0;
  for (; r + 2 <= n; r += 2) {
    const int8_t* x0 = xq + r * Ip;
    const int8_t* x1 = x0 + Ip;
    for (i64 b = 0; b < nb; b++) {
      const __m256i a0 = _mm256_loadu_si256((const __m256i*)(x0 + b * 32)), a1 = _mm256_loadu_si256((const __m256i*)(x1 + b * 32));
      for (int h = 0; h < 2; h++) {
        __m256i v0[8], v1[8];
        for (int jj = 0; jj < 8; jj++) {
          const __m256i wv = _mm256_loadu_si256((const __m256i*)(w + (h * 8 + jj) * ldw + b * 32));
          const __m256i aw = _mm256_abs_epi8(wv);
          v0[jj] = PG_Q8_DOT(aw, _mm256_sign_epi8(a0, wv));
          v1[jj] = PG_Q8_DOT(aw, _mm256_sign_epi8(a1, wv));
        }
        _mm256_storeu_si256((__m256i*)(dst + (r * nb + b) * 16 + h * 8), reduce8(v0));
        _mm256_storeu_si256((__m256i*)(dst + ((r + 1) * nb + b) * 16 + h * 8), reduce8(v1));
      }
    }
  }
  for (; r < n; r++) {
    const int8_t* x0 = xq + r * Ip;
    for (i64 b = 0; b < nb; b++) {
      const __m256i a0 = _mm256_loadu_si256((const __m256i*)(x0 + b * 32));
      for (int h = 0; h < 2; h++) {
        __m256i v0[8];
        for (int jj = 0; jj < 8; jj++) {
          const __m256i wv = _mm256_loadu_si256((const __m256i*)(w + (h * 8 + jj) * ldw + b * 32));
          v0[jj] = PG_Q8_DOT(_mm256_abs_epi8(wv), _mm256_sign_epi8(a0, wv));
        }
        _mm256_storeu_si256((__m256i*)(dst + (r * nb + b) * 16 + h * 8), reduce8(v0));
      }
    }
  }
}
