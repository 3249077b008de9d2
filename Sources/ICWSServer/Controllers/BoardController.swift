import Hummingbird

/// `GET /` and `GET /board`: the supervisor board and agent panel, a page built only on the public ICWS API.
/// Its files (`Public/`) are embedded in the binary, so the server serves them from any working directory.
/// Every answer carries `Content-Security-Policy: default-src 'self'`: the page loads nothing from elsewhere
/// and runs no inline script or style.
struct BoardController {
    /// One embedded file and its media type.
    struct Asset: Sendable {
        let contentType: String
        let body: ByteBuffer

        init(_ contentType: String, _ bytes: [UInt8]) {
            self.contentType = contentType
            body = ByteBuffer(bytes: bytes)
        }
    }

    /// The files under `/board/…`, by name.
    static let assets: [String: Asset] = [
        "board.js": Asset("text/javascript; charset=utf-8", PackageResources.board_js),
        "icws.js": Asset("text/javascript; charset=utf-8", PackageResources.icws_js),
        "board.css": Asset("text/css; charset=utf-8", PackageResources.board_css),
        "icon.svg": Asset("image/svg+xml", PackageResources.icon_svg),
    ]
    static let page = Asset("text/html; charset=utf-8", PackageResources.index_html)

    func addRoutes(to router: Router<ICWSRequestContext>) {
        let page: ICWSHandler = { _, _ in Self.response(Self.page) }
        router.resource("/", get: page)
        router.resource("/board", get: page)
        router.resource("/board/:file", get: { _, context in
            guard let asset = Self.assets[context.parameters.get("file") ?? ""] else {
                throw ICWSError.notFound("The board has no such file.")
            }
            return Self.response(asset)
        })
    }

    static func response(_ asset: Asset) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType,
                .contentSecurityPolicy: "default-src 'self'",
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: asset.body))
    }
}
