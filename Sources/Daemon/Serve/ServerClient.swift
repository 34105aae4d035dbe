import Foundation

/// vLLM's runtime LoRA API (`VLLM_ALLOW_RUNTIME_LORA_UPDATING`): `POST
/// /v1/load_lora_adapter` and `GET /v1/models` (``HTTPExchange``), each bounded by a
/// timeout, with the bearer token where one is set. Its answers are read as the server words them: the
/// JSON error's `message`, or the body's text.
struct ServerClient: Sendable {
    let base: String
    let token: String?
    let timeout: Double

    enum Answer: Sendable, Equatable {
        case loaded
        /// 400: the name is loaded already, and the request did not ask to replace it.
        case alreadyLoaded(String)
        /// Any other refusal, with the HTTP status and the server's message.
        case refused(status: Int, message: String)
        /// No answer: refused connection, timeout, DNS.
        case unreachable(String)
    }

    /// Asks the server to load the adapter folder `path` as `name` (over the one of
    /// that name where `inPlace`).
    func load(name: String, path: String, inPlace: Bool) async -> Answer {
        var body: [String: Any] = ["lora_name": name, "lora_path": path]
        if inPlace { body["load_inplace"] = true }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        switch await request("/v1/load_lora_adapter", body: data) {
        case .failure(let failure): return .unreachable(failure.reason)
        case .success((200..<300, _)): return .loaded
        case .success((let status, let message)):
            if status == 400, message.contains("already been loaded") { return .alreadyLoaded(message) }
            return .refused(status: status, message: message)
        }
    }

    /// The adapters the server has loaded: name → the folder it loaded (`root`).
    func models() async -> Result<[String: String], ServeFailure> {
        let text: String
        switch await request("/v1/models", body: nil) {
        case .failure(let failure): return .failure(failure)
        case .success((200, let body)): text = body
        case .success((let status, let message)): return .failure(ServeFailure("GET /v1/models: HTTP \(status): \(message)"))
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let models = object["data"] as? [[String: Any]] else {
            return .failure(ServeFailure("GET /v1/models: not the OpenAI models list: \(text.prefix(200))"))
        }
        var adapters: [String: String] = [:]
        for model in models where model["parent"] is String {
            if let id = model["id"] as? String, let root = model["root"] as? String { adapters[id] = root }
        }
        return .success(adapters)
    }

    private func request(_ path: String, body: Data?) async -> Result<(Int, String), ServeFailure> {
        guard let url = URL(string: base + path) else { return .failure(ServeFailure("not a URL: \(base + path)")) }
        var headers: [(String, String)] = body == nil ? [] : [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let (timeout, method, fields) = (timeout, body == nil ? "GET" : "POST", headers)
        // Blocking socket I/O, on a thread of its own: never on the cooperative pool.
        let result = await withCheckedContinuation { (done: CheckedContinuation<Result<HTTPExchange.Response, ServeFailure>, Never>) in
            Thread { done.resume(returning: HTTPExchange.exchange(method, url: url, headers: fields, body: body, timeout: timeout)) }.start()
        }
        return result.map { ($0.status, Self.message($0.body)) }
    }

    /// The server's words: `{"error": {"message": …}}` (vLLM), `{"message": …}`, or the text.
    static func message(_ data: Data) -> String {
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let error = object?["error"] as? [String: Any], let message = error["message"] as? String { return message }
        if let message = object?["message"] as? String { return message }
        return String(decoding: data.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct ServeFailure: Error, Sendable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
