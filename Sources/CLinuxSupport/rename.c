#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinuxSupport.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Through syscall(2) so that it builds against any glibc, not only >= 2.28. */
static int rename2(const char *from, const char *to, unsigned int flags) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

int mwad_rename_exchange(const char *from, const char *to) {
    return rename2(from, to, RENAME_EXCHANGE);
}

int mwad_rename_noreplace(const char *from, const char *to) {
    return rename2(from, to, RENAME_NOREPLACE);
}
