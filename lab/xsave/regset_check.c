/*
 * regset_check: shows, on this host and without UML, what ptrace_xsave.so
 * does. A stopped child's XSAVE state is written through PTRACE_SETREGSET
 * from a buffer shorter than the host's XSAVE area (PYHA_XSAVE_LIMIT bytes,
 * as Debian 12's UML kernel does on a host with AMX):
 *   1. straight to the kernel: refused with EFAULT (the failure UML dies of);
 *   2. through ptrace(), which LD_PRELOAD points at the wrapper (this program
 *      sets PYHA_XSAVE_LIMIT for it): accepted, the
 *      components that fit hold the values written, the one that did not is
 *      in its initial state.
 * Each check prints one line "ok ..." or "FAIL ..."; the exit status is the
 * number of failures. `regset_check --offset N` prints where state component
 * N starts in the standard format.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

static long raw(long request, pid_t pid, void *buf, size_t len, size_t *out)
{
    struct iovec iov = {buf, len};
    long rc = syscall(SYS_ptrace, request, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov);
    if (out != NULL)
        *out = iov.iov_len;
    return rc;
}

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

int main(int argc, char **argv)
{
    unsigned char *full, *mine, *after;
    unsigned int eax, ebx, ecx, edx, i, last = 0, last_off = 0, last_size = 0;
    unsigned int avx_off = 0;
    size_t size = 0, limit;
    uint64_t bv;
    pid_t pid;
    int status;
    struct iovec iov;

    if (argc == 3 && strcmp(argv[1], "--offset") == 0) { /* where component N starts */
        __cpuid_count(0xd, (unsigned int)atoi(argv[2]), eax, ebx, ecx, edx);
        printf("%u\n", ebx);
        return eax == 0;
    }
    for (i = 2; i < 64; i++) {
        __cpuid_count(0xd, i, eax, ebx, ecx, edx);
        if (eax == 0 || (ecx & 1))
            continue;
        if (i == 2)
            avx_off = ebx;
        if (ebx > last_off) {
            last = i, last_off = ebx, last_size = eax;
        }
    }
    if (avx_off == 0 || last == 2) {
        printf("skip: this CPU has no XSAVE component past AVX to leave out\n");
        return 77;
    }
    pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    full = calloc(1, 65536), mine = calloc(1, 65536), after = calloc(1, 65536);
    raw(PTRACE_GETREGSET, pid, full, 65536, &size);
    printf("host XSAVE area: %zu bytes; component %u at %u+%u left out\n", size, last,
           last_off, last_size);
    limit = last_off & ~(size_t)7;
    snprintf((char *)after, 32, "%zu", limit);
    setenv("PYHA_XSAVE_LIMIT", (char *)after, 1); /* read by the wrapper's first call */

    memcpy(mine, full, size);
    memset(mine + 160, 0x11, 16);          /* xmm0 (legacy area) */
    memset(mine + avx_off, 0x22, 16);      /* upper half of ymm0 */
    memset(mine + last_off, 0x33, 16);     /* the component that does not fit */
    memcpy(&bv, mine + 512, 8);
    bv |= (1ULL << 2) | (1ULL << last);
    memcpy(mine + 512, &bv, 8);

    errno = 0;
    check(raw(PTRACE_SETREGSET, pid, mine, limit, NULL) == -1 && errno == EFAULT,
          "a short buffer straight to the kernel: EFAULT");
    iov.iov_base = mine;
    iov.iov_len = size;
    check(ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) == 0,
          "the same buffer through the wrapper: accepted");
    raw(PTRACE_GETREGSET, pid, after, 65536, NULL);
    check(after[160] == 0x11 && after[175] == 0x11, "xmm0 holds the value written");
    check(after[avx_off] == 0x22 && after[avx_off + 15] == 0x22,
          "the upper half of ymm0 holds the value written");
    memcpy(&bv, after + 512, 8);
    check(!(bv & (1ULL << last)) && after[last_off] == 0,
          "the component past the buffer is in its initial state");
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return failures;
}
