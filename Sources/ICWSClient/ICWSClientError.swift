import ICWSModel

/// An ICWS call that did not succeed: the server's error body (`errorId`, `errorCode`, `message`) and the
/// HTTP status, or, when no answer came, `status` `nil` and a message saying why.
public struct ICWSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status of the answer; `nil` when the server could not be reached or the answer was cut off.
    public let status: Int?
    /// The ICWS `errorId`, e.g. `error.request.connection.authenticationFailure`.
    public let errorId: String?
    /// The ICWS `errorCode`, e.g. `-2147221503` for a failed login or `1`/`2`/`4` for session problems.
    public let errorCode: Int?
    /// The server's `message` (always present in an ICWS error body), or what went wrong on the way.
    public let message: String
    /// For `invalidProperty`/`missingProperty` errors, the property at fault.
    public let propertyName: String?

    /// Creates an error from its parts.
    public init(status: Int?, errorId: String? = nil, errorCode: Int? = nil, message: String, propertyName: String? = nil) {
        self.status = status
        self.errorId = errorId
        self.errorCode = errorCode
        self.message = message
        self.propertyName = propertyName
    }

    /// Creates an error from an ICWS error body and its HTTP status.
    public init(status: Int, body: ICWSErrorBody) {
        self.init(status: status, errorId: body.errorId, errorCode: body.errorCode, message: body.message, propertyName: body.propertyName)
    }

    /// True for a refused login: unknown user, wrong password or locked user (ICWS does not tell them apart).
    public var isAuthenticationFailure: Bool {
        status == 400 && errorId == "error.request.connection.authenticationFailure"
    }

    /// True when the session is gone (logged out, expired, or never valid): ICWS answers 401, and clients
    /// take any 401 as "disconnected".
    public var isSessionEnded: Bool { status == 401 }

    /// True when no HTTP answer came at all (connection refused, reset, timed out).
    public var isTransportFailure: Bool { status == nil }

    /// One line: the message, then the ICWS error id and code and the HTTP status where known.
    public var description: String {
        var parts: [String] = []
        if let errorId { parts.append(errorId) }
        if let errorCode { parts.append("errorCode \(errorCode)") }
        if let status { parts.append("HTTP \(status)") }
        return parts.isEmpty ? message : "\(message) (\(parts.joined(separator: ", ")))"
    }
}
