{
  # Built by tools/build-native.mjs (the package's "install" script), which never fails the install.
  "targets": [
    {
      "target_name": "pipegpt_native",
      "sources": ["native/portable.cc", "native/drivers.cc", "native/simd_avx2.cc", "native/simd_avx2_gemm.cc", "native/simd_avx2_q8.cc", "native/simd_avx512.cc", "native/simd_avx512_gemm.cc", "native/simd_amx.cc", "native/quant.cc", "native/dispatch.cc", "native/napi.cc", "native/napi_quant.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wno-unused-function"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/O2", "/fp:precise", "/std:c++17"] }
      }
    }
  ]
}
