/*
 * ptrace_xsave: an LD_PRELOAD wrapper that lets an older User-Mode-Linux
 * kernel run on a host whose XSAVE area is larger than the buffer it was
 * built with (CPUs with AMX: 11008 bytes, where Debian 12's linux.uml hands
 * ptrace 2696).
 *
 * The host kernel accepts PTRACE_SETREGSET(NT_X86_XSTATE) only with a whole
 * XSAVE buffer of its own size and answers EFAULT to a shorter one, while
 * PTRACE_GETREGSET merely truncates. UML therefore believes it has XSAVE
 * support, and dies at the first user process ("ptrace set fp regs failed,
 * errno = 14"). This wrapper gives SETREGSET a buffer of the host's size:
 * UML's bytes first, the rest zero, and the state components that did not
 * fit in UML's buffer marked as being in their initial state (their bit
 * cleared in XSTATE_BV), which is where they are: a UML guest process cannot
 * use AMX (the host grants it per process, and never to UML's children).
 *
 * Every other request goes to the C library's ptrace unchanged.
 *
 * Two variables exist for testing on hosts whose XSAVE area is small:
 *   PYHA_XSAVE_LIMIT=N  behave as if the caller's buffer held only N bytes
 *                       (N a multiple of 8): GETREGSET is truncated to N and
 *                       SETREGSET passes N, as on a host larger than N.
 *   PYHA_XSAVE_PAD=0    pass SETREGSET through unpadded (the failure itself).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define XSTATE_BV_OFFSET 512
#define XCOMP_BV_OFFSET 520
#define PROBE_SIZE 65536

typedef long (*ptrace_fn)(enum __ptrace_request, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static size_t host_size;   /* the host kernel's XSAVE regset size; 0: unknown */
static unsigned char *padded;
static size_t limit;       /* PYHA_XSAVE_LIMIT, 0: none */
static int pad = 1;
static int configured;

static void configure(void)
{
    const char *value;

    real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    value = getenv("PYHA_XSAVE_LIMIT");
    if (value != NULL && *value != '\0')
        limit = (size_t)strtoul(value, NULL, 10) & ~(size_t)7;
    value = getenv("PYHA_XSAVE_PAD");
    if (value != NULL && strcmp(value, "0") == 0)
        pad = 0;
    configured = 1;
}

/* The size the host kernel wants, asked of the kernel itself: GETREGSET with
 * a large buffer returns the regset's full size. */
static size_t kernel_size(pid_t pid)
{
    struct iovec iov;
    void *probe;

    if (host_size != 0)
        return host_size;
    probe = calloc(1, PROBE_SIZE);
    if (probe == NULL)
        return 0;
    iov.iov_base = probe;
    iov.iov_len = PROBE_SIZE;
    if (real_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) == 0)
        host_size = iov.iov_len;
    free(probe);
    return host_size;
}

/* Clear XSTATE_BV's bit for every user state component that ends past
 * `have` bytes (standard format: CPUID leaf 0xD gives each offset). */
static void init_components_past(unsigned char *buf, size_t have)
{
    uint64_t bv;
    unsigned int i, size, offset, ecx, edx;

    memcpy(&bv, buf + XSTATE_BV_OFFSET, sizeof(bv));
    for (i = 2; i < 64; i++) {
        if (!(bv & ((uint64_t)1 << i)))
            continue;
        __cpuid_count(0xd, i, size, offset, ecx, edx);
        if (size == 0 || (size_t)offset + size > have)
            bv &= ~((uint64_t)1 << i);
    }
    memcpy(buf + XSTATE_BV_OFFSET, &bv, sizeof(bv));
    memset(buf + XCOMP_BV_OFFSET, 0, sizeof(uint64_t)); /* standard format */
}

static long set_xstate(pid_t pid, struct iovec *iov)
{
    struct iovec full;
    size_t have = iov->iov_len, need;

    if (limit != 0 && limit < have)
        have = limit;
    need = kernel_size(pid);
    if (!pad || need == 0 || have >= need || have < XCOMP_BV_OFFSET + 8) {
        full.iov_base = iov->iov_base;
        full.iov_len = have;
        return real_ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &full);
    }
    if (padded == NULL) {
        padded = aligned_alloc(64, (need + 63) & ~(size_t)63);
        if (padded == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    memset(padded, 0, need);
    memcpy(padded, iov->iov_base, have);
    init_components_past(padded, have);
    full.iov_base = padded;
    full.iov_len = need;
    return real_ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &full);
}

/* The host's XSAVE size for the features its kernel enabled (CPUID leaf
 * 0xD, EBX of subleaf 0): what the lab reports (read with ctypes). */
unsigned int pyha_xsave_size(void)
{
    unsigned int eax, ebx, ecx, edx;

    if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    return ebx;
}

long ptrace(enum __ptrace_request request, ...)
{
    va_list args;
    pid_t pid;
    void *addr, *data;
    struct iovec *iov;
    struct iovec cut;
    long rc;

    va_start(args, request);
    pid = va_arg(args, pid_t);
    addr = va_arg(args, void *);
    data = va_arg(args, void *);
    va_end(args);
    if (!configured)
        configure();
    if ((uintptr_t)addr != NT_X86_XSTATE || data == NULL)
        return real_ptrace(request, pid, addr, data);
    iov = data;
    if (request == PTRACE_SETREGSET)
        return set_xstate(pid, iov);
    if (request == PTRACE_GETREGSET && limit != 0 && limit < iov->iov_len) {
        cut.iov_base = iov->iov_base;
        cut.iov_len = limit;
        rc = real_ptrace(request, pid, addr, &cut);
        iov->iov_len = cut.iov_len;
        return rc;
    }
    return real_ptrace(request, pid, addr, data);
}
