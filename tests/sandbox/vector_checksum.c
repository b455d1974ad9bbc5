/* vector_checksum SEED [ITERATIONS]: keeps running sums in vector registers for a long loop with no
 * memory traffic, then checks them against the sums computed in scalar code. Two of these in
 * parallel on one CPU are switched many times mid-loop, so any register the kernel (here: User-Mode
 * Linux and its ptrace-based FPU switching) fails to save and restore per process shows up as a
 * wrong sum. Uses ymm0-15 (AVX2) and, where the CPU has AVX-512, zmm16-31: the part of the XSAVE
 * area beyond UML's own 832-byte buffer. Prints "ok avx2[+avx512] SEED" and exits 0, else 1.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

enum { kLanes = 8 }; /* 64-bit lanes per zmm register; a ymm register uses the first 4 */

static void fill(uint64_t seed, uint64_t* acc, uint64_t* inc) {
  for (int i = 0; i < kLanes; i++) {
    acc[i] = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0x1000193ull;
    inc[i] = (seed << 8) + (uint64_t)i + 1;
  }
}

/* ymm0-7 += ymm8-15, `iterations` times. */
__attribute__((target("avx2"))) static void run_avx2(uint64_t* acc, const uint64_t* inc,
                                                     uint64_t n) {
  __asm__ volatile(
      "vmovdqu (%[a]), %%ymm0\n\t vmovdqa %%ymm0, %%ymm1\n\t vmovdqa %%ymm0, %%ymm2\n\t"
      "vmovdqa %%ymm0, %%ymm3\n\t vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm0, %%ymm5\n\t"
      "vmovdqa %%ymm0, %%ymm6\n\t vmovdqa %%ymm0, %%ymm7\n\t"
      "vmovdqu (%[i]), %%ymm8\n\t vpaddq %%ymm8, %%ymm8, %%ymm9\n\t vpaddq %%ymm8, %%ymm9, "
      "%%ymm10\n\t"
      "vpaddq %%ymm8, %%ymm10, %%ymm11\n\t vpaddq %%ymm8, %%ymm11, %%ymm12\n\t"
      "vpaddq %%ymm8, %%ymm12, %%ymm13\n\t vpaddq %%ymm8, %%ymm13, %%ymm14\n\t"
      "vpaddq %%ymm8, %%ymm14, %%ymm15\n\t"
      "1:\n\t"
      "vpaddq %%ymm8, %%ymm0, %%ymm0\n\t vpaddq %%ymm9, %%ymm1, %%ymm1\n\t"
      "vpaddq %%ymm10, %%ymm2, %%ymm2\n\t vpaddq %%ymm11, %%ymm3, %%ymm3\n\t"
      "vpaddq %%ymm12, %%ymm4, %%ymm4\n\t vpaddq %%ymm13, %%ymm5, %%ymm5\n\t"
      "vpaddq %%ymm14, %%ymm6, %%ymm6\n\t vpaddq %%ymm15, %%ymm7, %%ymm7\n\t"
      "dec %[n]\n\t jnz 1b\n\t"
      "vmovdqu %%ymm0, 0(%[a])\n\t vmovdqu %%ymm1, 32(%[a])\n\t vmovdqu %%ymm2, 64(%[a])\n\t"
      "vmovdqu %%ymm3, 96(%[a])\n\t vmovdqu %%ymm4, 128(%[a])\n\t vmovdqu %%ymm5, 160(%[a])\n\t"
      "vmovdqu %%ymm6, 192(%[a])\n\t vmovdqu %%ymm7, 224(%[a])\n\t vzeroupper"
      : [n] "+r"(n)
      : [a] "r"(acc), [i] "r"(inc)
      : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* zmm16-23 += zmm24-31, `iterations` times. */
__attribute__((target("avx512f"))) static void run_avx512(uint64_t* acc, const uint64_t* inc,
                                                          uint64_t n) {
  __asm__ volatile(
      "vmovdqu64 (%[a]), %%zmm16\n\t vmovdqa64 %%zmm16, %%zmm17\n\t vmovdqa64 %%zmm16, %%zmm18\n\t"
      "vmovdqa64 %%zmm16, %%zmm19\n\t vmovdqa64 %%zmm16, %%zmm20\n\t vmovdqa64 %%zmm16, %%zmm21\n\t"
      "vmovdqa64 %%zmm16, %%zmm22\n\t vmovdqa64 %%zmm16, %%zmm23\n\t"
      "vmovdqu64 (%[i]), %%zmm24\n\t vpaddq %%zmm24, %%zmm24, %%zmm25\n\t"
      "vpaddq %%zmm24, %%zmm25, %%zmm26\n\t vpaddq %%zmm24, %%zmm26, %%zmm27\n\t"
      "vpaddq %%zmm24, %%zmm27, %%zmm28\n\t vpaddq %%zmm24, %%zmm28, %%zmm29\n\t"
      "vpaddq %%zmm24, %%zmm29, %%zmm30\n\t vpaddq %%zmm24, %%zmm30, %%zmm31\n\t"
      "1:\n\t"
      "vpaddq %%zmm24, %%zmm16, %%zmm16\n\t vpaddq %%zmm25, %%zmm17, %%zmm17\n\t"
      "vpaddq %%zmm26, %%zmm18, %%zmm18\n\t vpaddq %%zmm27, %%zmm19, %%zmm19\n\t"
      "vpaddq %%zmm28, %%zmm20, %%zmm20\n\t vpaddq %%zmm29, %%zmm21, %%zmm21\n\t"
      "vpaddq %%zmm30, %%zmm22, %%zmm22\n\t vpaddq %%zmm31, %%zmm23, %%zmm23\n\t"
      "dec %[n]\n\t jnz 1b\n\t"
      "vmovdqu64 %%zmm16, 0(%[a])\n\t vmovdqu64 %%zmm17, 64(%[a])\n\t vmovdqu64 %%zmm18, "
      "128(%[a])\n\t"
      "vmovdqu64 %%zmm19, 192(%[a])\n\t vmovdqu64 %%zmm20, 256(%[a])\n\t vmovdqu64 %%zmm21, "
      "320(%[a])\n\t"
      "vmovdqu64 %%zmm22, 384(%[a])\n\t vmovdqu64 %%zmm23, 448(%[a])\n\t vzeroupper"
      : [n] "+r"(n)
      : [a] "r"(acc), [i] "r"(inc)
      : "memory", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
        "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

/* Register r (0..7) of `lanes` lanes started at acc and added (r+1)*inc each round. */
static int check(const char* what, const uint64_t* out, const uint64_t* acc, const uint64_t* inc,
                 int lanes, uint64_t n) {
  for (int r = 0; r < 8; r++)
    for (int l = 0; l < lanes; l++) {
      uint64_t want = acc[l] + n * (uint64_t)(r + 1) * inc[l];
      if (out[r * lanes + l] != want) {
        fprintf(stderr, "%s register %d lane %d: %" PRIx64 ", expected %" PRIx64 "\n", what, r, l,
                out[r * lanes + l], want);
        return 0;
      }
    }
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: vector_checksum SEED [ITERATIONS]\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[1], NULL, 0);
  uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 300000000ull;
  uint64_t acc[kLanes], inc[kLanes], out[8 * kLanes];
  fill(seed, acc, inc);
  if (!__builtin_cpu_supports("avx2")) {
    printf("skip: no AVX2\n");
    return 0;
  }
  int ok = 1, has512 = __builtin_cpu_supports("avx512f");
  for (int l = 0; l < 8 * kLanes; l++) out[l] = acc[l % 4];
  run_avx2(out, inc, n);
  ok &= check("ymm", out, acc, inc, 4, n);
  if (has512) {
    for (int l = 0; l < kLanes; l++) out[l] = acc[l];
    run_avx512(out, inc, n);
    ok &= check("zmm", out, acc, inc, 8, n);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  /* Involuntary switches show that the run was really preempted mid-loop. */
  if (ok)
    printf("ok avx2%s %" PRIu64 " (%ld preemptions)\n", has512 ? "+avx512" : "", seed,
           ru.ru_nivcsw);
  return ok ? 0 : 1;
}
