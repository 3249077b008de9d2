import AsyncHTTPClient
import Foundation
import ICWSModel
import NIOCore
import NIOHTTP1

/// The HTTP client the SDK uses unless it is given one: like `HTTPClient.shared`, but allowing many
/// connections per host, since every event stream holds one for as long as it is open.
enum ICWSHTTPClient {
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1_024)
        configuration.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// One HTTP answer: status, headers and the whole body.
struct ICWSReply: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: ByteBuffer

    var data: Data { Data(body.readableBytesView) }

    /// Throws the ICWS error the body carries unless the status is 2xx.
    func checked() throws -> ICWSReply {
        guard (200..<300).contains(status) else { throw Self.error(status: status, body: body) }
        return self
    }

    /// Decodes a 2xx JSON body as `T`.
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: try checked().data)
        } catch let error as ICWSClientError {
            throw error
        } catch {
            throw ICWSClientError(status: status, message: "The server's answer could not be read as \(T.self): \(error)")
        }
    }

    static func error(status: Int, body: ByteBuffer) -> ICWSClientError {
        if let decoded = try? JSONDecoder().decode(ICWSErrorBody.self, from: Data(body.readableBytesView)) {
            return ICWSClientError(status: status, body: decoded)
        }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return ICWSClientError(status: status, message: text.isEmpty ? "HTTP \(status) without an ICWS error body" : String(text.prefix(500)))
    }
}

/// Sends requests to one server and turns failures into `ICWSClientError`.
struct ICWSTransport: Sendable {
    /// The server's base URL without a trailing slash, e.g. `http://127.0.0.1:8018`.
    let server: String
    let http: HTTPClient
    let timeout: TimeAmount

    init(server: String, http: HTTPClient?, timeout: TimeAmount) {
        var base = server.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        if !base.contains("://") { base = "http://" + base }
        self.server = base
        self.http = http ?? ICWSHTTPClient.shared
        self.timeout = timeout
    }

    /// Sends one request and reads the whole answer (bounded to 16 MiB).
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: Data? = nil) async throws -> ICWSReply {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 16 << 20)
            return ICWSReply(status: Int(response.status.code), headers: response.headers, body: body)
        } catch let error as ICWSClientError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ICWSClientError(status: nil, message: "No answer from \(server) for \(method.rawValue) \(path): \(error)")
        }
    }

    /// Opens a streamed GET (an event stream); the caller reads the body.
    func stream(_ path: String, headers: [(String, String)]) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: server + path)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            // A stream lasts as long as the session: no overall deadline (the server pings a stream silent for 15 s).
            return try await http.execute(request, deadline: .distantFuture)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ICWSClientError(status: nil, message: "No answer from \(server) for the event stream: \(error)")
        }
    }
}

/// JSON bodies for requests, built with `JSONSerialization` (field order does not matter to ICWS).
enum ICWSBody {
    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
