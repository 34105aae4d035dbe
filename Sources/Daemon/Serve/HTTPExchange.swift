import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request over a plain socket (`Connection: close`), bounded by a
/// deadline: enough for a serving engine's local control API, with nothing to link
/// (URLSession's FoundationNetworking would bring libcurl and its TLS stack into the
/// statically linked binary and the wheel). `http` only.
enum HTTPExchange {
    struct Response: Sendable {
        var status: Int
        var body: Data
    }

    /// Sends `method path` to `url`'s host with `headers` and `body`; the reply, or why
    /// there is none (refused, timed out, unknown host, not HTTP).
    static func exchange(_ method: String, url: URL, headers: [(String, String)], body: Data?, timeout: Double) -> Result<Response, ServeFailure> {
        guard url.scheme == "http", let host = url.host else {
            return .failure(ServeFailure("only http:// is supported (got \(url.absoluteString)): serve the engine's API over http, e.g. on 127.0.0.1"))
        }
        let port = url.port ?? 80
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &found) == 0, let address = found else { return .failure(ServeFailure("unknown host \(host)")) }
        defer { freeaddrinfo(found) }
        let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            // A systemd unit's RestrictAddressFamilies=AF_UNIX (mwad's own unit has it, with PrivateNetwork=yes).
            if errno == EAFNOSUPPORT || errno == EPERM || errno == EACCES {
                return .failure(ServeFailure("this process may not open network sockets (\(String(cString: strerror(errno)))): under mwad's systemd unit, allow it with a drop-in: PrivateNetwork=no, RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6, IPAddressAllow=localhost (docs/OPERATING.md)"))
            }
            return .failure(ServeFailure("socket: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { return .failure(connectFailure(errno)) }
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .failure(timedOut) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { return .failure(connectFailure(error)) }
        }
        var head = "\(method) \(url.path.isEmpty ? "/" : url.path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body?.count ?? 0)\r\n\r\n"
        var request = Data(head.utf8)
        if let body { request.append(body) }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK else { return .failure(ServeFailure("the connection was closed while sending")) }
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .failure(timedOut) }
        }
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { reply.append(contentsOf: buffer[0..<n]); continue }
            if n == 0 { break }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return .failure(ServeFailure("the connection failed: \(String(cString: strerror(errno)))")) }
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return .failure(timedOut) }
        }
        return parse(reply)
    }

    static let timedOut = ServeFailure("no answer within the timeout (serve.timeout)")

    static func connectFailure(_ code: Int32) -> ServeFailure {
        switch code {
        case ECONNREFUSED: ServeFailure("connection refused (is the server running?)")
        case ENETUNREACH, EPERM, EACCES:
            ServeFailure("cannot connect (\(String(cString: strerror(code)))): under mwad's systemd unit (PrivateNetwork=yes, IPAddressDeny=any) allow it with a drop-in: PrivateNetwork=no, IPAddressAllow=localhost (docs/OPERATING.md)")
        default: ServeFailure("cannot connect: \(String(cString: strerror(code)))")
        }
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(left, 3600) * 1000) + 1)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
        }
    }

    /// The status and body of a whole reply (its body by Content-Length, chunks, or to the end).
    static func parse(_ reply: Data) -> Result<Response, ServeFailure> {
        guard let end = reply.range(of: Data("\r\n\r\n".utf8)) else { return .failure(ServeFailure("not an HTTP reply")) }
        let head = String(decoding: reply[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let fields = head.first?.split(separator: " ") ?? []
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let status = Int(fields[1]) else {
            return .failure(ServeFailure("not an HTTP reply: \(head.first ?? "")"))
        }
        var body = Data(reply[end.upperBound...])
        let headers = head.dropFirst().map { $0.lowercased() }
        if headers.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            body = dechunked(body)
        } else if let length = headers.first(where: { $0.hasPrefix("content-length:") }).flatMap({ Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }),
                  length < body.count {
            body = body.prefix(length)
        }
        return .success(Response(status: status, body: body))
    }

    private static func dechunked(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)),
              let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16), size > 0 {
            let start = line.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            let stop = rest.index(start, offsetBy: size)
            out.append(rest[start..<stop])
            rest = rest[stop...].dropFirst(2)
        }
        return out
    }
}
