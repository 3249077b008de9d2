import HTTPTypes
import Hummingbird
import ICWSCore

/// A route handler that returns a finished response.
typealias ICWSHandler = @Sendable (Request, ICWSRequestContext) async throws -> Response

extension RouterMethods where Context == ICWSRequestContext {
    /// Registers a resource's handlers; the other ICWS methods on the same path answer 405.
    @discardableResult
    func resource(
        _ path: RouterPath, get: ICWSHandler? = nil, put: ICWSHandler? = nil, post: ICWSHandler? = nil,
        delete: ICWSHandler? = nil
    ) -> Self {
        let handlers: [(HTTPRequest.Method, ICWSHandler?)] = [(.get, get), (.put, put), (.post, post), (.delete, delete)]
        let notAllowed = ICWSError.methodNotAllowed(allow: handlers.compactMap { $0.1 == nil ? nil : $0.0 })
        let refuse: ICWSHandler = { _, _ in throw notAllowed }
        for (method, handler) in handlers {
            on(path, method: method, use: handler ?? refuse)
        }
        // No ICWS resource supports PATCH, TRACE or QUERY: answer 405 on a known path rather than the router's 404.
        for method in Self.refusedMethods { on(path, method: method, use: refuse) }
        return self
    }
}

extension RouterMethods {
    /// Methods the HTTP parser accepts that no resource supports (HEAD and OPTIONS are left to CORS and the router).
    static var refusedMethods: [HTTPRequest.Method] { [.patch, .trace, HTTPRequest.Method("QUERY")].compactMap { $0 } }
}

/// Wraps a handler of a resource newer than an emulated feature version: 410 with an ICWS error.
func requiringFeature(_ features: FeatureVersions, _ feature: String, _ version: Int, _ handler: @escaping ICWSHandler) -> ICWSHandler {
    guard !features.supports(feature, version) else { return handler }
    let emulated = features.version(of: feature)
    return { _, _ in
        throw ICWSError.gone("This resource needs \(feature) \(version); the server emulates \(feature) \(emulated).")
    }
}
