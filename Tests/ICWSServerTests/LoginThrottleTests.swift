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

    @Test("a login flood waits for bounded bcrypt threads: a login that would wait past --max-login-wait-seconds answers 503 with Retry-After at once; the right password works after")
    func floodIsBounded() async throws {
        // One user hashed at cost 12 (about a quarter of a second per check); unknown users cost the same.
        let json = #"{"users":[{"userId":"slow","passwordHash":"$2b$12$aeJlSeCpk1FJMnq2OqSireWFHet4UzrYJmodTk8dM9XAuk4.fcoEu"}]}"#
        let directory = try Directory.parse(Data(json.utf8), file: "test")
        let server = try await TestServer.make(directory: directory, configure: {
            $0.passwordThreads = 1
            $0.maxLoginWaitSeconds = 0.3
            $0.loginFailuresPerAddress = 0
            $0.loginFailuresPerUser = 0
        })
        // Straight through the router: the test client's one connection would send the logins one by one.
        try await server.run(.router) { http in
            let statuses = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
                for index in 0..<12 { group.addTask { try await http.login("nobody\(index)", password: "x") } }
                var results: [HTTPResult] = []
                for try await result in group { results.append(result) }
                return results
            }
            let busy = statuses.filter { $0.status == .serviceUnavailable }
            #expect(busy.count >= 6, "\(statuses.map(\.status))")
            #expect(busy.allSatisfy { $0.errorId == "error.server.unavailable" && $0.header("Retry-After") == "1" })
            #expect(statuses.filter { $0.status == .badRequest }.count >= 1)
            #expect(try await http.login("slow", password: "pw").status == .created)
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
