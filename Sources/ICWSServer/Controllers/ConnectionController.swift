import Metrics
import Foundation
import HTTPTypes
import Hummingbird
import ICWSCore
import ICWSModel
import NIOPosix

/// Login, logout, connection state, features, version, server time and station.
struct ConnectionController {
    let center: ContactCenter
    let throttle: LoginThrottle
    let passwords: PasswordChecks
    let configuration: ServerConfiguration
    let clock: any ICWSClock

    static let version = ServerVersion(
        majorVersion: "25", minorVersion: "1", su: "0", build: "1", productId: "OpenICWS", codebaseId: "openicws",
        productReleaseDisplayString: "OpenICWS \(ICWSMetrics.version) (ICWS-compatible)")

    func addSessionlessRoutes(to router: Router<ICWSRequestContext>) {
        router.resource("/icws/connection", post: login)
        router.resource("/icws/connection/features", get: { _, _ in ICWSResponse.json(FeatureInfoList(featureInfoList: configuration.features.featureInfoList)) })
        router.resource("/icws/connection/features/:featureId", get: feature)
        router.resource("/icws/connection/version", get: { _, _ in ICWSResponse.json(Self.version) })
        router.resource("/icws/connection/server-time", get: { _, _ in ICWSResponse.json(serverTime()) })
    }

    func addSessionRoutes(to group: RouterGroup<ICWSRequestContext>) {
        group.resource("/connection", get: { _, _ in ICWSResponse.json(["connectionState": ConnectionState.up.rawValue]) }, delete: logout)
        group.resource("/connection/features", get: { _, _ in ICWSResponse.json(FeatureInfoList(featureInfoList: configuration.features.featureInfoList)) })
        group.resource("/connection/features/:featureId", get: feature)
        group.resource("/connection/version", get: { _, _ in ICWSResponse.json(Self.version) })
        group.resource("/connection/server-time", get: { _, _ in ICWSResponse.json(serverTime()) })
        group.resource("/connection/station", put: station)
    }

    private func serverTime() -> ServerTimeInfo {
        ServerTimeInfo(serverUtcTime: ICWSDate.string(from: clock.now()))
    }

    @Sendable func feature(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let id = context.parameters.get("featureId") ?? ""
        let version = configuration.features.version(of: id)
        guard version > 0 else { throw ICWSError.notFound("The feature '\(id)' is not known.") }
        return ICWSResponse.json(FeatureInfo(featureId: id, version: version))
    }

    @Sendable func login(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        guard !center.sessions.isDraining else { throw ICWSError.notAcceptingConnections }
        guard let language = request.headers[.acceptLanguage]?.trimmingCharacters(in: .whitespaces), !language.isEmpty else {
            throw ICWSError.invalidHeader("Accept-Language")
        }
        let body = try await JSONBody.read(request, context: context)
        if let type = try body.type(), type != ICWSType.icAuthConnectionRequest {
            throw ICWSError.invalidRepresentation("The connection request type '\(type)' is not supported; use \(ICWSType.icAuthConnectionRequest).")
        }
        let userId = try body.requiredString("userID")
        let password = try body.requiredString("password")
        let applicationName = try body.string("applicationName") ?? ""
        let directory = center.directory
        if let seconds = throttle.retryAfter(userId: userId, address: context.remoteAddress, now: clock.now()) {
            context.logger.notice("login throttled", metadata: ["userId": "\(userId)", "address": "\(context.remoteAddress ?? "")"])
            Self.counted("throttled")
            throw ICWSError.tooManyAttempts(retryAfter: seconds)
        }
        let verified = try await passwords.run { directory.verifyPassword(password, for: userId) }
        guard let user = verified else {
            throttle.failed(userId: userId, address: context.remoteAddress, now: clock.now())
            context.logger.notice("login refused", metadata: ["userId": "\(userId)"])
            Self.counted("failed")
            throw ICWSError.authenticationFailure
        }
        throttle.succeeded(userId: userId)
        Self.counted("ok")
        let session = try await center.login(
            user, language: language, applicationName: applicationName,
            mailboxCapacity: configuration.mailboxCapacity, replayCapacity: configuration.replayCapacity)
        context.logger.info("login", metadata: ["sessionId": "\(session.id)", "userId": "\(user.userId)", "application": "\(applicationName)"])
        let include = Set((request.uri.queryParameters.get("include") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let response = ConnectionResponse(
            csrfToken: session.csrfToken, sessionId: session.id, alternateHostList: [], userID: user.userId,
            userDisplayName: user.displayName, icServer: configuration.serverName,
            version: include.contains("version") ? Self.version : nil,
            features: include.contains("features") ? configuration.features.featureInfoList : nil,
            serverTimeInfo: include.contains("server-time") ? serverTime() : nil)
        var headers: HTTPFields = [:]
        headers[.icwsCSRFToken] = session.csrfToken
        headers[.icwsSessionID] = session.id
        headers[.location] = "/icws/\(session.id)/connection"
        headers[.setCookie] = "icws_\(session.id)=\(session.cookieValue); Path=/icws/\(session.id); HttpOnly"
        return ICWSResponse.json(response, status: .created, headers: headers)
    }

    /// `openicws_logins_total{result=ok|failed|throttled|busy}`.
    static func counted(_ result: String) {
        Counter(label: "openicws_logins_total", dimensions: [("result", result)]).increment()
    }

    @Sendable func logout(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        let session = try context.requireSession()
        if await center.endSession(session, reason: "The session was logged out.", shouldReconnect: false) {
            context.logger.info("logout", metadata: ["sessionId": "\(session.id)"])
        }
        return ICWSResponse.empty(.ok)
    }

    @Sendable func station(_ request: Request, context: ICWSRequestContext) async throws -> Response {
        _ = try context.requireSession()
        let body = try await JSONBody.read(request, context: context)
        if let type = try body.type(), type != ICWSType.workstationSettings, type != ICWSType.stationlessSettings {
            throw ICWSError.invalidRepresentation("The station settings type '\(type)' is not supported.")
        }
        return ICWSResponse.json(bytes: Array("{}".utf8))
    }
}
