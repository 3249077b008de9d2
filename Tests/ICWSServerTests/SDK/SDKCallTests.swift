import Foundation
import ICWSClient
import ICWSCore
import ICWSModel
import Testing

@Suite("The Swift SDK against a live server")
struct SDKCallTests {
    @Test("connect reads features and version; every login error is a typed error with errorId and errorCode")
    func connectAndLoginErrors() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let base = baseURL(http)
            let client = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234")
            #expect(client.userId == "agent1")
            #expect(client.userDisplayName == "Agent One")
            #expect(client.sessionId.allSatisfy(\.isNumber) && client.sessionId.count >= 9)
            #expect(client.featureVersion("messaging") == 2 && client.featureVersion("interactions") == 10)
            #expect(client.usesEventStream)
            #expect(client.version?.productId == "OpenICWS")
            let features = try await ICWSClient.features(server: base)
            #expect(features.contains(FeatureInfo(featureId: "queues", version: 1)))
            #expect(try await ICWSClient.version(server: base).productId == "OpenICWS")
            #expect(try await client.isConnected())

            for (user, password) in [("agent1", "wrong"), ("nobody", "1234")] {
                do {
                    _ = try await ICWSClient.connect(server: base, userId: user, password: password)
                    Issue.record("login of \(user) with \(password) succeeded")
                } catch let error as ICWSClientError {
                    #expect(error.isAuthenticationFailure)
                    #expect(error.status == 400)
                    #expect(error.errorId == "error.request.connection.authenticationFailure")
                    #expect(error.errorCode == -2147221503)
                }
            }
            var noLanguage = ICWSClient.Options()
            noLanguage.language = ""
            do {
                _ = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234", options: noLanguage)
                Issue.record("a login without Accept-Language succeeded")
            } catch let error as ICWSClientError {
                #expect(error.errorId == "error.request.invalidHeader")
            }
            // Nobody listening: no HTTP answer at all.
            let closedPort = try freeLoopbackPort()
            do {
                _ = try await ICWSClient.connect(server: "127.0.0.1:\(closedPort)", userId: "agent1", password: "1234")
                Issue.record("a login to a closed port succeeded")
            } catch let error as ICWSClientError {
                #expect(error.isTransportFailure)
            }

            try await client.heartbeat()
            try await client.logout()
            #expect(try await client.isConnected() == false)
            // After logout every call is the ICWS 401 for an ended session.
            do {
                try await client.subscribe(.agentAssistance)
                Issue.record("subscribe after logout succeeded")
            } catch let error as ICWSClientError {
                #expect(error.isSessionEnded)
                #expect(error.errorCode == -2147221499)
            }
        }
    }

    @Test("every call: subscribe, request, accept, ignore, say, complete, disconnect, unsubscribe, logout; the views follow over SSE")
    func everyCall() async throws {
        let server = try await TestServer.make()
        try await server.run { http in
            let base = baseURL(http)
            let agent = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234")
            let first = try await ICWSClient.connect(server: base, userId: "supervisor1", password: "1234")
            let second = try await ICWSClient.connect(server: base, userId: "supervisor2", password: "1234")
            let agentMessages = MessageCollector(agent)
            let firstMessages = MessageCollector(first)
            let secondMessages = MessageCollector(second)
            try await agent.subscribe(.agentAssistance)
            try await agent.subscribe(.queue(subscriptionId: "mine", queues: [.user("agent1")], attributes: ["Eic_State", "Eic_RemoteName"]))
            try await first.subscribe(.supervisorAssistance)
            try await second.subscribe(.supervisorAssistance)
            try await agentMessages.waitUntil("the agent's snapshots") { $0.agentAssistance.hasSnapshot && $0.queues["mine"]?.hasSnapshot == true }
            try await firstMessages.waitUntil("supervisor1's snapshot") { $0.supervisorAssistance.hasSnapshot }

            let admin = ICWSAdmin(server: base, token: adminToken)
            let interaction = try await admin.createInteraction(workgroup: "Support", agent: "agent1", remoteName: "Ada")
            #expect(interaction.agent == "agent1" && interaction.workgroup == "Support")
            try await agentMessages.waitUntil("the interaction in agent1's queue") { $0.queues["mine"]?.interactions[interaction.interactionId]?["Eic_RemoteName"] == "Ada" }

            let id = try await agent.requestAssistance(interactionId: interaction.interactionId, text: "Caller wants a refund")
            try await agent.subscribe(.agentAssistanceDetails(assistanceId: id))
            try await agentMessages.waitUntil("the request in agent1's list") { $0.agentAssistance.assistanceIds == [id] && $0.details[id]?.state == .waiting }
            try await firstMessages.waitUntil("the request on supervisor1's list") { $0.supervisorAssistance.waiting.map(\.assistanceId) == [id] }
            #expect(first.views.supervisorAssistance.requests[id]?.problemDescription == "Caller wants a refund")

            try await second.ignore(assistanceId: id)
            try await secondMessages.waitUntil("supervisor2's own action: ignored") { $0.supervisorAssistance.requests[id]?.action == .ignored }
            try await first.subscribe(.supervisorAssistanceDetails(assistanceId: id))
            try await first.accept(assistanceId: id, text: "I'm here")
            try await firstMessages.waitUntil("accepted on supervisor1's list") { $0.supervisorAssistance.requests[id]?.state == .accepted }
            try await secondMessages.waitUntil("accepted on supervisor2's list too") { $0.supervisorAssistance.requests[id]?.state == .accepted }
            try await first.say(assistanceId: id, text: "What is the amount?")
            try await agent.say(assistanceId: id, text: "300 euros")
            try await agentMessages.waitUntil("the chat in agent1's details") { $0.details[id]?.chatLines.count == 4 }
            let details = try #require(agent.views.details[id])
            #expect(details.chatLines.map(\.text) == ["Caller wants a refund", "I'm here", "What is the amount?", "300 euros"])
            #expect(details.state == .accepted)
            #expect(details.participants.first { $0.userId == "supervisor1" }?.action == .accepted)
            try await firstMessages.waitUntil("the chat in supervisor1's details") { $0.details[id]?.chatLines.count == 4 }

            // A refused action is the ICWS error, typed.
            do {
                try await first.complete(assistanceId: id)
                Issue.record("a supervisor completed a request they did not initiate")
            } catch let error as ICWSClientError {
                #expect(error.status == 400)
            }

            try await agent.complete(assistanceId: id)
            try await agentMessages.waitUntil("the request leaves agent1's list") { $0.agentAssistance.assistanceIds.isEmpty && $0.details[id]?.state == .completed }
            try await firstMessages.waitUntil("the request leaves supervisor1's list") { $0.supervisorAssistance.requests.isEmpty }

            try await agent.disconnect(interactionId: interaction.interactionId)
            try await agentMessages.waitUntil("the interaction leaves or changes in agent1's queue") {
                $0.queues["mine"]?.interactions[interaction.interactionId]?["Eic_State"] != "C"
            }
            #expect(try await admin.interaction(interaction.interactionId).state == "disconnected")
            #expect(try await admin.interactions().map(\.interactionId).contains(interaction.interactionId))

            try await agent.unsubscribe(.queue(subscriptionId: "mine", queues: [], attributes: []))
            #expect(agent.views.queues["mine"] == nil)
            let second2 = try await admin.createInteraction(workgroup: "Support", agent: "agent1")
            try await admin.disconnectInteraction(second2.interactionId)
            // After the unsubscribe no queue message comes for agent1.
            try await Task.sleep(for: .milliseconds(200))
            #expect(!agentMessages.messages.contains { if case .queueContents = $0.message { $0.json.contains(second2.interactionId) } else { false } })

            // Every message carries its SSE event id, and the text as sent.
            #expect(agentMessages.messages.allSatisfy { $0.eventId != nil })
            #expect(agentMessages.messages.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.json.utf8))) is [String: Any] })

            for client in [agent, first, second] { try await client.logout() }
            for collector in [agentMessages, firstMessages, secondMessages] {
                #expect(await collector.waitUntilFinished(), "the messages did not end after logout")
                #expect(collector.error == nil)
            }
        }
    }

    @Test("messages fall back to polling when the server's messaging feature is below 2")
    func pollingFallback() async throws {
        let server = try await TestServer.make(features: FeatureVersions(emulating: ["messaging": 1]))
        try await server.run { http in
            let base = baseURL(http)
            var options = ICWSClient.Options()
            options.pollInterval = .milliseconds(50)
            let agent = try await ICWSClient.connect(server: base, userId: "agent1", password: "1234", options: options)
            #expect(agent.featureVersion("messaging") == 1)
            #expect(!agent.usesEventStream)
            let messages = MessageCollector(agent)
            try await agent.subscribe(.agentAssistance)
            let interaction = try await http.createInteraction(agent: "agent1")
            let id = try await agent.requestAssistance(interactionId: interaction, text: "polled")
            try await messages.waitUntil("the request, polled") { $0.agentAssistance.assistanceIds == [id] }
            let received = messages.messages
            #expect(received.count == 2)
            #expect(received.allSatisfy { $0.eventId == nil })
            // The JSON of each polled message is the array element as the server sent it.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(received[1].json.utf8)) as? [String: Any])
            #expect(object["requestsAdded"] as? [String] == [id])
            try await agent.logout()
            #expect(await messages.waitUntilFinished())
        }
    }

    @Test("the SSE parser: CR, LF and CRLF split anywhere, multi-line data, comments, retry, persistent ids")
    func eventParser() {
        let stream = "retry: 250\r\n:ping\r\n\r\nid: 7\ndata: {\"a\":1}\n\ndata: line one\rdata: line two\r\r: comment\n\nid: 9\r\ndata:x\r\n\r\n"
        var whole = ServerSentEventParser()
        whole.consume(Array(stream.utf8))
        var events: [ServerSentEventParser.Event] = []
        while let event = whole.nextEvent() { events.append(event) }
        #expect(events == [
            ServerSentEventParser.Event(id: "7", data: "{\"a\":1}"), ServerSentEventParser.Event(id: "7", data: "line one\nline two"), ServerSentEventParser.Event(id: "9", data: "x"),
        ])
        #expect(whole.retryMilliseconds == 250)
        // Byte by byte (a CRLF split across reads counts once) gives the same events.
        var split = ServerSentEventParser()
        var again: [ServerSentEventParser.Event] = []
        for byte in stream.utf8 {
            split.consume([byte])
            while let event = split.nextEvent() { again.append(event) }
        }
        #expect(again == events)
    }
}
