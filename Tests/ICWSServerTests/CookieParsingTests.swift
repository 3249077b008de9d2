@testable import ICWSServer
import Testing

@Suite("Lenient session cookie parsing")
struct CookieParsingTests {
    @Test("finds icws_{sid} in plain headers, echoed Set-Cookie strings, comma-joined and quoted values")
    func lenient() {
        let name = "icws_123"
        #expect(SessionMiddleware.cookieValue(named: name, in: ["icws_123=abc"]) == "abc")
        #expect(SessionMiddleware.cookieValue(named: name, in: ["icws_123=abc; Path=/icws/123; HttpOnly"]) == "abc")
        #expect(SessionMiddleware.cookieValue(named: name, in: ["other=1; icws_123=abc"]) == "abc")
        #expect(SessionMiddleware.cookieValue(named: name, in: ["other=1, icws_123=abc ; x=y"]) == "abc")
        #expect(SessionMiddleware.cookieValue(named: name, in: ["a=b", "icws_123=\"abc\""]) == "abc")
        #expect(SessionMiddleware.cookieValue(named: name, in: ["xicws_123=abc", "icws_1234=abc", "icws_123"]) == nil)
        #expect(SessionMiddleware.cookieValue(named: name, in: []) == nil)
    }
}
