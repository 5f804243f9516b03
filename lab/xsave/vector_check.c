/*
 * vector_check: results computed in vector registers by several processes
 * at once, so that they are preempted while the registers hold live values.
 * Run on the host and in a UML guest, the output must be the same: a kernel
 * (or a ptrace wrapper) that loses or mixes up a process's vector state on a
 * context switch changes a sum.
 *
 * Each process runs integer and floating-point recurrences in SSE2, AVX2 and
 * AVX-512 registers (each level only where the CPU has it; the line says
 * "n/a" otherwise) with no function call in the loop, and prints one line:
 * its number and a checksum per level.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROCS 4

static uint64_t fold(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ULL;
    while (n--)
        h = (h ^ *b++) * 1099511628211ULL;
    return h;
}

/* One recurrence, compiled three times: with 16-, 32- and 64-byte vectors and
 * the instruction set they need (GCC's vector extensions). 16 integer and 6
 * floating-point values stay live through every round; with AVX-512 the
 * compiler keeps them in zmm0-31. */
#define DEFINE_RUN(NAME, TARGET, BYTES)                                                  \
    typedef uint32_t NAME##_vi __attribute__((vector_size(BYTES)));                     \
    typedef double NAME##_vd __attribute__((vector_size(BYTES)));                       \
    __attribute__((target(TARGET), noinline)) static uint64_t NAME(int seed, long rounds) \
    {                                                                                    \
        NAME##_vi a[16], m, k;                                                           \
        NAME##_vd x[6], y;                                                               \
        unsigned int lane;                                                               \
        for (lane = 0; lane < BYTES / 4; lane++) {                                       \
            m[lane] = 0x9e3779b9u * (lane + 1);                                          \
            k[lane] = 17u + 2u * lane;                                                   \
        }                                                                                \
        for (int i = 0; i < 16; i++)                                                     \
            a[i] = m * (uint32_t)(seed * (2 * i + 3));                                   \
        for (int i = 0; i < 6; i++)                                                      \
            x[i] = (NAME##_vd){0} + seed * 0.001 + i * 0.125;                            \
        y = (NAME##_vd){0} + 0.999999;                                                   \
        for (long r = 0; r < rounds; r++) {                                              \
            a[0] = (a[0] ^ m) + k;                                                       \
            _Pragma("GCC unroll 16") for (int i = 1; i < 16; i++)                       \
                a[i] = (a[i] ^ a[i - 1]) + (i & 1 ? k : m);                              \
            _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++)                          \
                x[i] = x[i] * y + y;                                                     \
        }                                                                                \
        return fold(a, sizeof(a)) ^ fold(x, sizeof(x));                                  \
    }

DEFINE_RUN(run_sse2, "sse2", 16)
DEFINE_RUN(run_avx2, "avx2", 32)
DEFINE_RUN(run_avx512, "avx512f", 64)

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 20000000;
    int fds[PROCS][2];
    char line[256];

    __builtin_cpu_init();
    for (int p = 0; p < PROCS; p++) {
        if (pipe(fds[p]) != 0)
            return 2;
        if (fork() == 0) {
            int seed = 1000 + p * 77;
            char avx2[20] = "n/a", avx512[20] = "n/a";
            if (__builtin_cpu_supports("avx2"))
                snprintf(avx2, sizeof(avx2), "%016llx", (unsigned long long)run_avx2(seed, rounds));
            if (__builtin_cpu_supports("avx512f"))
                snprintf(avx512, sizeof(avx512), "%016llx",
                         (unsigned long long)run_avx512(seed, rounds));
            int n = snprintf(line, sizeof(line), "process %d sse2 %016llx avx2 %s avx512f %s\n", p,
                             (unsigned long long)run_sse2(seed, rounds), avx2, avx512);
            if (write(fds[p][1], line, (size_t)n) != n)
                _exit(2);
            _exit(0);
        }
        close(fds[p][1]);
    }
    for (int p = 0; p < PROCS; p++) {
        ssize_t n = read(fds[p][0], line, sizeof(line) - 1);
        if (n <= 0)
            return 2;
        fwrite(line, 1, (size_t)n, stdout);
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
