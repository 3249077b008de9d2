import HTTPTypes
import ICWSCore
import ICWSModel

/// A typed ICWS failure: HTTP status and ICWS body. The server renders it in one place
/// (`ICWSResponseMiddleware`); the core's `DomainError`s are mapped to it by `init(_:)`.
public struct ICWSError: Error, Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The wire body.
    public var body: ICWSErrorBody
    /// Sent as `Retry-After` (429).
    public var retryAfterSeconds: Int?
    /// Sent as `Allow` (405): the methods the resource supports.
    public var allow: String?

    public init(status: Int, body: ICWSErrorBody) {
        self.status = status
        self.body = body
    }

    init(_ status: Int, _ errorId: String?, _ message: String, errorCode: Int? = nil) {
        self.init(status: status, body: ICWSErrorBody(errorId: errorId, errorCode: errorCode, message: message))
    }

    // MARK: 400

    public static let authenticationFailure = ICWSError(
        400, "error.request.connection.authenticationFailure", "The authentication process failed.",
        errorCode: -2_147_221_503)

    public static func invalidRepresentation(_ message: String) -> ICWSError {
        ICWSError(400, "error.request.invalidRepresentation", message)
    }

    public static func missingProperty(_ name: String) -> ICWSError {
        ICWSError(status: 400, body: ICWSErrorBody(
            type: ICWSType.missingPropertyError, errorId: "error.request.invalidRepresentation.missingProperty",
            message: "The required property '\(name)' is missing.", propertyName: name))
    }

    public static func invalidProperty(_ name: String, _ why: String) -> ICWSError {
        ICWSError(status: 400, body: ICWSErrorBody(
            type: ICWSType.invalidPropertyError, errorId: "error.request.invalidRepresentation.invalidProperty",
            message: "The property '\(name)' is invalid: \(why)", propertyName: name))
    }

    public static func invalidHeader(_ name: String) -> ICWSError {
        ICWSError(400, "error.request.invalidHeader", "The required header '\(name)' is missing or invalid.")
    }

    /// An assistance rule was broken (spec §6); `reason` is the last part of the errorId.
    public static func assistance(_ reason: String, _ message: String) -> ICWSError {
        ICWSError(400, "error.request.assistance.\(reason)", message)
    }

    // MARK: 401

    public static let sessionRequired = ICWSError(401, nil, "This request requires a session ID!", errorCode: 1)
    public static let csrfTokenMissing = ICWSError(
        401, nil, "An authentication token was expected in the request, but not found.", errorCode: 2)
    public static let cookieMissing = ICWSError(
        401, nil, "A session cookie was expected in the request, but not found or not valid.", errorCode: 4)
    public static let sessionEnded = ICWSError(
        401, "error.request.connection.authenticationFailure", "Session Identifier is invalid",
        errorCode: -2_147_221_499)

    // MARK: 403 and later

    public static func accessDenied(_ message: String) -> ICWSError {
        ICWSError(403, "error.request.accessDenied", message, errorCode: 7)
    }

    public static func notFound(_ message: String) -> ICWSError {
        ICWSError(404, "error.request.notFound", message)
    }

    public static let methodNotAllowed = ICWSError(
        405, "error.request.accessDenied.httpMethodNotAllowed", "The HTTP method is not supported on this resource.")

    /// 405 naming the methods the resource supports (`Allow`).
    public static func methodNotAllowed(allow methods: [HTTPRequest.Method]) -> ICWSError {
        var error = methodNotAllowed
        error.allow = methods.map(\.rawValue).joined(separator: ", ")
        return error
    }

    public static func conflict(_ errorId: String, _ message: String) -> ICWSError {
        ICWSError(409, errorId, message)
    }

    public static func gone(_ message: String) -> ICWSError {
        ICWSError(410, "error.request.gone", message)
    }

    public static let internalError = ICWSError(500, "error.server.internal", "An internal error occurred.")

    /// The store could not commit or read: nothing was changed, the client may retry.
    public static let storeUnavailable = ICWSError(
        503, "error.server.unavailable", "The server cannot store the change right now; nothing was changed. Retry later.")

    /// The ICWS rendering of a domain refusal.
    public init(_ error: DomainError) {
        switch error {
        case .missingProperty(let name): self = .missingProperty(name)
        case .invalidProperty(let name, let why): self = .invalidProperty(name, why)
        case .assistance(let reason, let message): self = .assistance(reason, message)
        case .accessDenied(let message): self = .accessDenied(message)
        case .notFound(let message): self = .notFound(message)
        case .noAgentAvailable(let message): self = .conflict("error.request.routing.noAgentAvailable", message)
        case .limitReached(let limit, let message):
            self = ICWSError(status: 400, body: ICWSErrorBody(
                errorId: "error.request.limitExceeded", message: "\(message) (limit: \(limit))"))
        case .tooManySessions(let message):
            self = ICWSError(status: 429, body: ICWSErrorBody(errorId: "error.request.connection.tooManySessions", message: message))
        case .sessionEnded: self = .sessionEnded
        case .storeUnavailable: self = .storeUnavailable
        case .conflict(let why):
            self = .conflict("error.request.conflict", "A change committed at the same time on another node conflicts with this one; nothing was changed (\(why)).")
        }
    }

    /// Too many failed logins for this user id or from this address: try again after `seconds`.
    public static func tooManyAttempts(retryAfter seconds: Int) -> ICWSError {
        var error = ICWSError(status: 429, body: ICWSErrorBody(
            errorId: "error.request.connection.tooManyAttempts",
            message: "Too many failed logins; try again in \(seconds) seconds."))
        error.retryAfterSeconds = seconds
        return error
    }

    /// A write refused because the server is shutting down.
    public static let shuttingDown = ICWSError(status: 503, body: ICWSErrorBody(
        errorId: "error.server.unavailable", message: "The server is shutting down; nothing was changed."))

    /// Too many logins are being checked at once (bcrypt is slow by design).
    public static var loginsBusy: ICWSError {
        var error = ICWSError(status: 503, body: ICWSErrorBody(
            errorId: "error.server.unavailable", message: "Too many logins are being checked right now; retry in a second."))
        error.retryAfterSeconds = 1
        return error
    }

    public static let notAcceptingConnections = ICWSError(status: 503, body: ICWSErrorBody(
        errorId: "error.server.notAcceptingConnections", message: "The server is not accepting connections.",
        alternateHostList: []))
}
