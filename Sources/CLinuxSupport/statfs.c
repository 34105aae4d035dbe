#include <sys/vfs.h>
#include "CLinuxSupport.h"

unsigned long mwad_fs_magic(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return 0;
    return (unsigned long)info.f_type;
}
