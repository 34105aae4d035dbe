#ifndef MWAD_CLINUXSUPPORT_H
#define MWAD_CLINUXSUPPORT_H

/// Atomically exchanges two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, -1 with errno set (EINVAL or ENOSYS where the
/// filesystem or kernel cannot exchange).
int mwad_rename_exchange(const char *from, const char *to);

/// Renames `from` to `to` only if `to` does not exist (RENAME_NOREPLACE).
int mwad_rename_noreplace(const char *from, const char *to);

/// The file system magic number (statfs f_type) of the file system holding `path`;
/// 0 with errno set on failure.
unsigned long mwad_fs_magic(const char *path);

/// Starts writing `count` bytes of `fd` from `offset` back to disk without waiting
/// (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later fsync waits only
/// for what was written since. Not a durability guarantee by itself.
int mwad_start_writeback(int fd, long long offset, long long count);

#endif
