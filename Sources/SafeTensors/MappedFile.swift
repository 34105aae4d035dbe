#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, private memory map of a whole file.
///
/// Adapters can be hundreds of MiB and a merge reads several at once; mapping lets
/// the kernel page them in as the merge walks the tensors instead of copying them
/// onto the heap. The map lives as long as this object.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path`; throws ``SafeTensorsError/Rule/unreadable(_:)`` naming the cause.
    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure(path, "open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure(path, "fstat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError(file: path, rule: .unreadable("not a regular file"))
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let base, base != MAP_FAILED else { throw Self.failure(path, "mmap") }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    private static func failure(_ path: String, _ call: String) -> SafeTensorsError {
        let text = String(cString: strerror(errno))
        return SafeTensorsError(file: path, rule: .unreadable("\(call): \(text)"))
    }
}
