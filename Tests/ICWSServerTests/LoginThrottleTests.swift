import Foundation
import HTTPTypes
import ICWSCore
import Testing

/// Brute force against logins: failures are counted per user id and per client address.
@Suite("Login throttling")
struct LoginThrottleTests {
    @Test("after the user's failure limit even the right password answers 429 tooManyAttempts with Retry-After, until the window passes")
    func perUser() async throws {
        let clock = ManualClock()
        try await TestServer.make(clock: clock, configure: { $0.loginFailuresPerUser = 3 }).run(.router) { http in
            for _ in 0..<3 {
                #expect(try await http.login("agent1", password: "wrong").status == .badRequest)
            }
            let throttled = try await http.login("agent1")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.errorId == "error.request.connection.tooManyAttempts")
            let retry = try #require(throttled.header("Retry-After").flatMap(Int.init))
            #expect((1...300).contains(retry))
            // Other users are not affected.
            #expect(try await http.login("agent2").status == .created)
            clock.advance(by: 301)
            #expect(try await http.login("agent1").status == .created)
        }
    }

    @Test("a success resets the user's count")
    func successResets() async throws {
        try await TestServer.make(configure: { $0.loginFailuresPerUser = 3 }).run(.router) { http in
            for _ in 0..<2 { _ = try await http.login("agent1", password: "wrong") }
            #expect(try await http.login("agent1").status == .created)
            for _ in 0..<2 { _ = try await http.login("agent1", password: "wrong") }
            #expect(try await http.login("agent1").status == .created)
        }
    }

    @Test("one client address guessing many user ids is stopped at the address limit")
    func perAddress() async throws {
        try await TestServer.make(configure: { $0.loginFailuresPerAddress = 4 }).run { http in
            for index in 0..<4 {
                #expect(try await http.login("nobody\(index)", password: "x").status == .badRequest)
            }
            let throttled = try await http.login("agent1")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.header("Retry-After") != nil)
        }
    }
}
