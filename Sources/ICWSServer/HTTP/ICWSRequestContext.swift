import HTTPTypes
import Hummingbird
import ICWSCore
import Logging
import NIOCore

/// The request context: Hummingbird's core storage plus the authenticated ICWS session.
public struct ICWSRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `SessionMiddleware` on `/icws/{sid}/…` routes.
    public var session: Session?

    /// The client's IP address (for login throttling), when the connection has one.
    public var remoteAddress: String?

    /// The connection, so an event stream whose client stopped reading can be closed at logout or shutdown.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
    }

    /// ICWS bodies are small; anything larger is refused before it is read.
    public var maxUploadSize: Int { Self.maxBodyBytes }

    /// The largest request body accepted (64 KB): ICWS bodies are small.
    static let maxBodyBytes = 64 * 1024

    /// The session, or 401 when the route was reached without one (a routing bug, not a client error).
    func requireSession() throws -> Session {
        guard let session else { throw ICWSError.sessionRequired }
        return session
    }
}
