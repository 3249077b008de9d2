import Foundation
import HTTPTypes
import ICWSCore
import Testing

/// What one logged-in user may make the server hold: each cap answers an ICWS error and leaves the rest working.
@Suite("Limits on what one user may make the server hold")
struct LimitsTests {
    @Test("past the watch cap a new watch answers 400 limitExceeded; replacing a watch still works, and so does a new one after a DELETE")
    func watchCap() async throws {
        try await TestServer.make(configure: { $0.limits.watchesPerSession = 3 }).run(.router) { http in
            let agent = try await http.session("agent1")
            let queue = #"{"queueIds":[{"queueType":1,"queueName":"agent1"}],"attributeNames":["Eic_State"]}"#
            for id in ["q1", "q2", "q3"] {
                #expect(try await agent.watchQueue(id, queue).status == .ok)
            }
            let refused = try await agent.watchQueue("q4", queue)
            #expect(refused.status == .badRequest)
            #expect(refused.errorId == "error.request.limitExceeded")
            #expect(try await agent.watchQueue("q2", queue).status == .ok, "replacing a watch must not count twice")
            #expect(try await agent.unwatchQueue("q1").status == .noContent)
            #expect(try await agent.watchQueue("q4", queue).status == .ok)
        }
    }

    @Test("past the chat-line cap a line answers 400 limitExceeded and is not added")
    func chatCap() async throws {
        try await TestServer.make(configure: { $0.limits.chatLinesPerRequest = 3 }).run(.router) { http in
            let agent = try await http.session("agent1")
            let (_, assistanceId) = try await http.request(by: agent)
            #expect(try await agent.chat(assistanceId, "two").status == .noContent)
            #expect(try await agent.chat(assistanceId, "three").status == .noContent)
            let refused = try await agent.chat(assistanceId, "four")
            #expect(refused.status == .badRequest)
            #expect(refused.errorId == "error.request.limitExceeded")
            #expect(try await agent.watchDetails(assistanceId).status == .noContent)
            let lines = try await agent.pollOne()["messagesAdded"] as? [[String: Any]]
            #expect(lines?.compactMap { $0["text"] as? String } == ["help", "two", "three"])
        }
    }

    @Test("text is limited in UTF-8 bytes as well as characters, and a NUL is refused")
    func textBytes() async throws {
        try await TestServer.make().run(.router) { http in
            let agent = try await http.session("agent1")
            let (_, assistanceId) = try await http.request(by: agent)
            // 1,500 four-byte characters: within 2,000 characters, but 6,000 bytes.
            let emoji = String(repeating: "\u{1F600}", count: 1_500)
            let tooLong = try await agent.chat(assistanceId, emoji)
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.errorId == "error.request.invalidRepresentation.invalidProperty")
            let nul = try await agent.chat(assistanceId, "a\\u0000b")
            #expect(nul.status == .badRequest)
            #expect(try await agent.chat(assistanceId, String(repeating: "\u{1F600}", count: 900)).status == .noContent)
        }
    }

    @Test("--max-sessions-per-user: the next login answers 429 tooManySessions; after a logout one more fits")
    func sessionsPerUser() async throws {
        try await TestServer.make(configure: { $0.limits.sessionsPerUser = 2 }).run(.router) { http in
            let first = try await http.session("agent1")
            _ = try await http.session("agent1")
            let refused = try await http.login("agent1")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorId == "error.request.connection.tooManySessions")
            #expect(try await http.login("agent2").status == .created, "other users are not affected")
            #expect(try await first.send(.delete, "/connection").status == .ok)
            #expect(try await http.login("agent1").status == .created)
        }
    }
}
