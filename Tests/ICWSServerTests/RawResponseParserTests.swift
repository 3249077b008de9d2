@testable import ICWSLoad
import NIOCore
import Testing

/// The closed-loop client reads responses itself: a response split over reads, or several in one read,
/// must each be counted once with the right status and body.
@Suite("Closed-loop response reading")
struct RawResponseParserTests {
    private let created = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"assistanceId\":\"a17\"}"
    private let noContent = "HTTP/1.1 204 No Content\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n\r\n"

    @Test("two responses in one read, then one split byte by byte")
    func pipelinedAndSplit() throws {
        var parser = RawResponseParser()
        var both = ByteBuffer(string: created + noContent)
        parser.feed(&both)
        let first = try #require(try parser.next())
        #expect(first.status == 201)
        #expect(LoadJSON.string("assistanceId", in: first.body) == "a17")
        #expect(try parser.next()?.status == 204)
        #expect(try parser.next() == nil)

        var seen: [Int] = []
        for byte in created.utf8 {
            var one = ByteBuffer(bytes: [byte])
            parser.feed(&one)
            while let response = try parser.next() { seen.append(response.status) }
        }
        #expect(seen == [201])
    }

    @Test("header names in any case; a chunked response is refused rather than misread")
    func headerCaseAndChunked() throws {
        var parser = RawResponseParser()
        var upper = ByteBuffer(string: "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\n\r\n[]")
        parser.feed(&upper)
        #expect(try parser.next().map { String(buffer: $0.body) } == "[]")

        var chunked = ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n")
        parser.feed(&chunked)
        #expect(throws: LoadError.self) { try parser.next() }
    }
}
