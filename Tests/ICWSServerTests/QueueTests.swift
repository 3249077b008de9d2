import Foundation
import HTTPTypes
import Testing

/// The queue subscription body of the brief, for one queue.
func queueBody(_ queueType: Int, _ queueName: String) -> String {
    """
    {"queueIds":[{"queueType":\(queueType),"queueName":"\(queueName)"}],
     "attributeNames":["Eic_State","Eic_RemoteName","Eic_WorkgroupName","Eic_ObjectType","Eic_CallId","Nope"]}
    """
}

/// One interaction of a queueContentsMessage with the attributes `queueBody` asks for.
func queueEntry(_ id: String, state: String = "C", workgroup: String = "Support", objectType: String = "Call") -> String {
    """
    {"interactionId":"\(id)","attributes":{"Eic_State":"\(state)","Eic_RemoteName":"Caller","Eic_WorkgroupName":"\(workgroup)",
     "Eic_ObjectType":"\(objectType)","Eic_CallId":"\(id)","Nope":""}}
    """
}

@Suite("Queue subscriptions (§7)")
struct QueueTests {
    @Test("PUT answers 200 and a snapshot of the user's queue, attributes as strings, unknown ones empty")
    func snapshot() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let mine = try await http.createInteraction(agent: "agent1")
            _ = try await http.createInteraction(agent: "agent2")
            let put = try await agent1.watchQueue("sub1", queueBody(1, "agent1"))
            #expect(put.status == .ok)
            try await agent1.expectMessages("""
                [{"__type":"\(queueType)","isDelta":false,"subscriptionId":"sub1","interactionsAdded":[\(queueEntry(mine))]}]
                """)
        }
    }

    @Test("queueType sent as a string, \"1\" or \"User\" (as the ICWS JavaScript SDK's samples do), is accepted")
    func queueTypeAsString() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let mine = try await http.createInteraction(agent: "agent1")
            let put = try await agent1.watchQueue("s", #"{"queueIds":[{"queueType":"1","queueName":"agent1"}],"attributeNames":["Eic_CallId"]}"#)
            #expect(put.status == .ok, "\(put.text)")
            let snapshot = try await agent1.pollOne()
            #expect(snapshot.objects("interactionsAdded")?.first?["interactionId"] as? String == mine)
            #expect(try await agent1.watchQueue("t", #"{"queueIds":[{"queueType":"User","queueName":"agent1"}]}"#).status == .ok)
            #expect(try await agent1.watchQueue("u", #"{"queueIds":[{"queueType":"station","queueName":"agent1"}]}"#).status == .badRequest)
        }
    }

    @Test("An empty queue's snapshot has an empty interactionsAdded")
    func emptySnapshot() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            #expect(try await agent1.watchQueue("q", queueBody(1, "agent1")).status == .ok)
            try await agent1.expectMessages(#"[{"__type":"\#(queueType)","isDelta":false,"subscriptionId":"q","interactionsAdded":[]}]"#)
        }
    }

    @Test("A new interaction arrives as interactionsAdded; its disconnect as interactionsRemoved")
    func deltas() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            #expect(try await agent1.watchQueue("sub1", queueBody(1, "agent1")).status == .ok)
            _ = try await agent1.pollOne()

            let call = try await http.createInteraction(agent: "agent1")
            try await agent1.expectMessages("""
                [{"__type":"\(queueType)","isDelta":true,"subscriptionId":"sub1","interactionsAdded":[\(queueEntry(call))]}]
                """)
            let chat = try await http.createInteraction(workgroup: nil, agent: "agent1", type: "chat")
            try await agent1.expectMessages("""
                [{"__type":"\(queueType)","isDelta":true,"subscriptionId":"sub1","interactionsAdded":[\(queueEntry(chat, workgroup: "", objectType: "Chat"))]}]
                """)
            // Someone else's interaction is not in agent1's queue.
            _ = try await http.createInteraction(agent: "agent2")
            try await agent1.expectNothing()

            #expect(try await agent1.disconnect(call).status == .noContent)
            try await agent1.expectMessages(#"[{"__type":"\#(queueType)","isDelta":true,"subscriptionId":"sub1","interactionsRemoved":["\#(call)"]}]"#)
            #expect(try await http.admin(.delete, "/admin/interactions/\(chat)").status == .noContent)
            try await agent1.expectMessages(#"[{"__type":"\#(queueType)","isDelta":true,"subscriptionId":"sub1","interactionsRemoved":["\#(chat)"]}]"#)
        }
    }

    @Test("Another agent's user queue answers 403; a supervisor of the user's workgroup may watch it")
    func userQueueAccess() async throws {
        try await TestServer.make().run { http in
            let agent2 = try await http.session("agent2")
            let denied = try await agent2.watchQueue("s", queueBody(1, "agent1"))
            #expect(denied.status == .forbidden)
            #expect(denied.errorId == "error.request.accessDenied")
            try await agent2.expectNothing()

            let supervisor1 = try await http.session("supervisor1")
            let call = try await http.createInteraction(agent: "agent1")
            #expect(try await supervisor1.watchQueue("s", queueBody(1, "agent1")).status == .ok)
            try await supervisor1.expectMessages("""
                [{"__type":"\(queueType)","isDelta":false,"subscriptionId":"s","interactionsAdded":[\(queueEntry(call))]}]
                """)
            let next = try await http.createInteraction(agent: "agent1")
            try await supervisor1.expectMessages("""
                [{"__type":"\(queueType)","isDelta":true,"subscriptionId":"s","interactionsAdded":[\(queueEntry(next))]}]
                """)
            // agent4 is only in Sales, which supervisor1 does not supervise; supervisor2 does.
            #expect(try await supervisor1.watchQueue("t", queueBody(1, "agent4")).status == .forbidden)
            let supervisor2 = try await http.session("supervisor2")
            #expect(try await supervisor2.watchQueue("t", queueBody(1, "agent4")).status == .ok)
        }
    }

    @Test("A workgroup queue is open to its members and supervisors, 403 for others; it shows every member's interactions")
    func workgroupQueueAccess() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let supervisor1 = try await http.session("supervisor1")
            let first = try await http.createInteraction(agent: "agent1")
            let second = try await http.createInteraction(agent: "agent2")
            _ = try await http.createInteraction(workgroup: "Sales", agent: "agent3")
            let expected = [first, second].sorted().map { queueEntry($0) }.joined(separator: ",")
            for session in [agent1, supervisor1] {
                #expect(try await session.watchQueue("wg", queueBody(2, "Support")).status == .ok, "\(session.userId)")
                try await session.expectMessages("""
                    [{"__type":"\(queueType)","isDelta":false,"subscriptionId":"wg","interactionsAdded":[\(expected)]}]
                    """)
            }
            let agent4 = try await http.session("agent4")
            for (session, queue) in [(agent4, "Support"), (agent1, "Sales"), (supervisor1, "Sales")] {
                let result = try await session.watchQueue("other", queueBody(2, queue))
                #expect(result.status == .forbidden, "\(session.userId) on \(queue)")
                #expect(result.errorId == "error.request.accessDenied", "\(session.userId) on \(queue)")
                try await session.expectNothing()
            }
            // A Sales member and its supervisor may watch Sales.
            let agent3 = try await http.session("agent3")
            #expect(try await agent3.watchQueue("sales", queueBody(2, "Sales")).status == .ok)
            let supervisor2 = try await http.session("supervisor2")
            #expect(try await supervisor2.watchQueue("sales", queueBody(2, "Sales")).status == .ok)
        }
    }

    @Test("A body without queueIds answers 400 missingProperty queueIds")
    func missingQueueIds() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let result = try await agent1.watchQueue("s", #"{"attributeNames":["Eic_State"]}"#)
            #expect(result.status == .badRequest)
            #expect(result.errorId == "error.request.invalidRepresentation.missingProperty")
            #expect(result.object["propertyName"] as? String == "queueIds")
            #expect(try await agent1.watchQueue("s", nil).status == .badRequest)
            try await agent1.expectNothing()
        }
    }

    @Test("DELETE answers 204, stops the deltas, and is idempotent")
    func delete() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            #expect(try await agent1.watchQueue("sub1", queueBody(1, "agent1")).status == .ok)
            _ = try await agent1.pollOne()
            let deleted = try await agent1.unwatchQueue("sub1")
            #expect(deleted.status == .noContent)
            _ = try await http.createInteraction(agent: "agent1")
            try await agent1.expectNothing()
            #expect(try await agent1.unwatchQueue("sub1").status == .noContent)
            #expect(try await agent1.unwatchQueue("never").status == .noContent)
        }
    }
}
