import HTTPTypes
import Hummingbird
import ICWSCore
import Logging

/// The outermost middleware: no-cache headers on every response, CORS for configured origins, and
/// every error rendered once as an ICWS error body (bad input never becomes a 500).
struct ICWSResponseMiddleware: RouterMiddleware {
    typealias Context = ICWSRequestContext
    let corsOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin].flatMap { corsOrigins.contains($0) ? $0 : nil }
        var response: Response
        if request.method == .options, origin != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE"
            if let requested = request.headers[.accessControlRequestHeaders] {
                response.headers[.accessControlAllowHeaders] = requested
            }
            response.headers[.accessControlMaxAge] = "600"
        } else {
            do {
                response = try await next(request, context)
            } catch let error as ICWSError {
                response = ICWSResponse.error(error, path: request.uri.path)
            } catch let error as DomainError {
                response = ICWSResponse.error(ICWSError(error), path: request.uri.path)
            } catch let error as HTTPError {
                response = ICWSResponse.error(Self.translate(error), path: request.uri.path)
            } catch let error as any HTTPResponseError {
                response = ICWSResponse.error(Self.translate(HTTPError(error.status)), path: request.uri.path)
            } catch {
                context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                response = ICWSResponse.error(.internalError, path: request.uri.path)
            }
        }
        response.headers[.cacheControl] = "no-cache, no-store, must-revalidate"
        response.headers[.pragma] = "no-cache"
        response.headers[.expires] = "0"
        if let origin {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.vary] = "Origin"
            response.headers[.accessControlAllowCredentials] = "true"
            response.headers[.accessControlExposeHeaders] = "ININ-ICWS-CSRF-Token,ININ-ICWS-Session-ID,Location,Set-Cookie"
        }
        return response
    }

    static func translate(_ error: HTTPError) -> ICWSError {
        switch error.status.code {
        case 404: return .notFound("The resource does not exist.")
        case 405: return .methodNotAllowed
        case 413: return .invalidRepresentation("The request body is too large.")
        case 400..<500: return ICWSError(status: error.status.code, body: .init(errorId: "error.request.invalid", message: error.body ?? "Bad request."))
        default: return .internalError
        }
    }
}
