import Foundation
import HTTPTypes
import Testing

@Suite("Board: the page and its files, as served")
struct BoardPageTests {
    @Test("GET / and GET /board serve the page with Content-Security-Policy default-src 'self', and it has no inline script or style")
    func page() async throws {
        try await TestServer.make().run(.router) { http in
            for path in ["/", "/board"] {
                let result = try await http.send(.get, path)
                #expect(result.status == .ok)
                #expect(result.header("Content-Type") == "text/html; charset=utf-8")
                #expect(result.header("Content-Security-Policy") == "default-src 'self'")
                let html = result.text
                #expect(html.contains(#"<script type="module" src="/board/board.js"></script>"#))
                // Under default-src 'self' an inline script, a style attribute or an inline handler would not run.
                #expect(html.components(separatedBy: "<script").count - 1 == html.components(separatedBy: "<script type=\"module\" src=").count - 1)
                #expect(!html.contains("<style"))
                #expect(html.range(of: #"\s(style|on[a-z]+)="#, options: .regularExpression) == nil)
                #expect(html.range(of: #"https?://"#, options: .regularExpression) == nil, "the page loads nothing from elsewhere")
            }
        }
    }

    @Test("the page's files are served with their types; an unknown file answers 404 with an ICWS error")
    func files() async throws {
        try await TestServer.make().run(.router) { http in
            for (file, type) in [("board.js", "text/javascript"), ("icws.js", "text/javascript"), ("board.css", "text/css"), ("icon.svg", "image/svg+xml")] {
                let result = try await http.send(.get, "/board/\(file)")
                #expect(result.status == .ok, "\(file)")
                #expect(result.header("Content-Type")?.hasPrefix(type) == true, "\(file)")
                #expect(result.header("Content-Security-Policy") == "default-src 'self'")
                #expect(!result.body.readableBytesView.isEmpty)
            }
            let missing = try await http.send(.get, "/board/secrets.txt")
            #expect(missing.status == .notFound)
            #expect(missing.errorId == "error.request.notFound")
        }
    }
}
