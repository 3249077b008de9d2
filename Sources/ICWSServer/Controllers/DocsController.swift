import Foundation
import Hummingbird

/// `GET /docs/openapi.yaml` (the OpenAPI document) and `GET /docs` (its endpoints on a small page, no
/// scripts, no CDN). The document is read once: next to the executable (`openapi.yaml`, for a deployed
/// binary), else from the source tree it was built from (`docs/openapi.yaml`).
struct DocsController {
    let document: String?

    init() {
        var candidates: [String] = []
        if let executable = Bundle.main.executablePath {
            candidates.append((executable as NSString).deletingLastPathComponent + "/openapi.yaml")
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent("docs/openapi.yaml").path)
        document = candidates.lazy.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.first
    }

    func addRoutes(to router: Router<ICWSRequestContext>) {
        let document = document
        let page = document.map(Self.page)
        router.resource("/docs/openapi.yaml", get: { _, _ in
            guard let document else { throw ICWSError.notFound("openapi.yaml was not found next to the binary nor in its source tree.") }
            return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: document)))
        })
        router.resource("/docs", get: { _, _ in
            guard let page else { throw ICWSError.notFound("openapi.yaml was not found next to the binary nor in its source tree.") }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        })
    }

    /// One row per path and method, with its summary, read from the document's `paths:` section.
    static func page(_ yaml: String) -> String {
        var rows: [(path: String, method: String, summary: String)] = []
        var inPaths = false
        var path = ""
        var method: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
                method = nil
                continue
            }
            for verb in ["get", "put", "post", "delete"] where line.hasPrefix("    \(verb):") {
                method = verb.uppercased()
                let rest = line.dropFirst(5 + verb.count)
                var summary = ""
                if let range = rest.range(of: "summary: ") {
                    summary = String(rest[range.upperBound...].prefix { $0 != "," })
                }
                rows.append((path, verb.uppercased(), summary))
            }
            if let method, line.hasPrefix("      summary: "), let last = rows.indices.last, rows[last].method == method,
                rows[last].path == path
            {
                rows[last].summary = String(line.dropFirst(15))
            }
        }
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let body = rows.map { "<tr><td><code>\($0.method)</code></td><td><code>\(escape($0.path))</code></td><td>\(escape($0.summary))</td></tr>" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>OpenICWS endpoints</title>
            <style>body{font:15px system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.2em .8em;border-bottom:1px solid #ddd;vertical-align:top}code{font-size:13px}</style>
            </head><body><h1>OpenICWS endpoints</h1>
            <p>The full description: <a href="/docs/openapi.yaml">openapi.yaml</a> (OpenAPI 3.0).</p>
            <table>\(body.joined(separator: "\n"))</table></body></html>
            """
    }
}
