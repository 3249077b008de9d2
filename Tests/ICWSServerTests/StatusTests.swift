import Foundation
import HTTPTypes
import ICWSCore
import Testing

let userStatusType = "urn:inin.com:status:userStatusMessage"

extension ICWSTestSession {
    func setStatus(_ userId: String, _ json: String) async throws -> HTTPResult {
        try await send(.put, "/status/user-statuses/\(userId)", json: json)
    }

    func watchStatuses(_ json: String) async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/status/user-statuses", json: json)
    }
}

@Suite("Statuses (feature status)")
struct StatusTests {
    @Test("The status messages list the default set with every flag; a user may select the selectable ones")
    func statusMessages() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let list = try await agent.send(.get, "/status/status-messages")
            #expect(list.status == .ok)
            let entries = try #require(list.object.objects("statusMessageList"))
            #expect(entries.map { $0["statusId"] as? String } == [
                "Available", "Available, Follow-up", "Away from desk", "At lunch", "Do not disturb", "Follow up", "Gone home",
            ])
            let flags = [
                "canHaveDate", "canHaveTime", "isDoNotDisturbStatus", "isSelectableStatus", "isPersistentStatus", "isForwardStatus",
                "isAfterCallWorkStatus", "isAcdStatus", "isAllowFollowUpStatus",
            ]
            for entry in entries {
                for key in ["messageText", "groupTag", "iconUri", "systemId"] { #expect(entry[key] is String, "\(key) in \(entry)") }
                for flag in flags { #expect((entry[flag] as? NSNumber).map(isJSONBoolean) == true, "\(flag) in \(entry)") }
            }
            let dnd = entries.first { $0["statusId"] as? String == "Do not disturb" }
            #expect(dnd?["isDoNotDisturbStatus"] as? Bool == true)
            #expect(dnd?["isAcdStatus"] as? Bool == false)
            #expect(entries.first?["isAcdStatus"] as? Bool == true)
            // Clients show each status's icon from the server's root + iconUri, without a session.
            for uri in entries.compactMap({ $0["iconUri"] as? String }) {
                let icon = try await http.send(.get, uri)
                #expect(icon.status == .ok, "\(uri)")
                #expect(icon.header("Content-Type") == "image/svg+xml")
            }

            let access = try await agent.send(.get, "/status/status-messages-user-access/agent2")
            #expect(access.status == .ok)
            #expect(access.object["userId"] as? String == "agent2")
            #expect(access.object.strings("statusMessages")?.contains("Do not disturb") == true)
            #expect(try await agent.send(.get, "/status/status-messages-user-access/nobody").status == .notFound)
        }
    }

    @Test("Users set their own status (202), read it back, and the id is matched without regard to case")
    func setOwnStatus() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            let initial = try await agent.send(.get, "/status/user-statuses/agent1")
            #expect(initial.status == .ok)
            #expect(initial.object["statusId"] as? String == "Available")
            #expect(initial.object["loggedIn"] as? Bool == true)
            #expect(initial.object["onPhone"] as? Bool == false)
            #expect(isCompactDate(initial.object["statusChanged"] as? String))

            let set = try await agent.setStatus(
                "agent1", #"{"statusId":"at LUNCH","notes":"back at two","until":{"untilDateTime":"20300101T140000Z","hasDate":true,"hasTime":true}}"#)
            #expect(set.status == .accepted, "\(set.text)")
            let read = try await agent.send(.get, "/status/user-statuses/agent1").object
            #expect(read["statusId"] as? String == "At lunch")
            #expect(read["notes"] as? String == "back at two")
            #expect(read["untilDateTime"] as? String == "20300101T140000Z")
            #expect(read["hasDate"] as? Bool == true)
            #expect((read["until"] as? [String: Any])?["untilDateTime"] as? String == "20300101T140000Z")

            // The flat form of the end date is read too; a status without dates drops them.
            #expect(try await agent.setStatus("agent1", #"{"statusId":"Available","untilDateTime":"20300101T140000Z","hasDate":true}"#).status == .accepted)
            let plain = try await agent.send(.get, "/status/user-statuses/agent1").object
            #expect(plain["hasDate"] as? Bool == false)
            #expect(plain["until"] == nil)
        }
    }

    @Test("A supervisor may set a member's status; another agent gets 403; an unknown or unselectable status 400")
    func rights() async throws {
        var directory = Directory.demo()
        directory = Directory(
            users: Array(directory.users.values), workgroups: Array(directory.workgroups.values),
            statuses: StatusMessage.defaults + [StatusMessage(statusId: "On a call", isSelectableStatus: false)])
        try await TestServer.make(directory: directory).run { http in
            let agent1 = try await http.session("agent1")
            let supervisor = try await http.session("supervisor1")
            let byPeer = try await agent1.setStatus("agent2", #"{"statusId":"Away from desk"}"#)
            #expect(byPeer.status == .forbidden)
            #expect(byPeer.errorId == "error.request.accessDenied")
            #expect(try await supervisor.setStatus("agent2", #"{"statusId":"Away from desk"}"#).status == .accepted)
            #expect(try await agent1.send(.get, "/status/user-statuses/agent2").object["statusId"] as? String == "Away from desk")
            // supervisor1 supervises Support only; agent4 is in Sales.
            #expect(try await supervisor.setStatus("agent4", #"{"statusId":"Away from desk"}"#).status == .forbidden)

            let unknown = try await agent1.setStatus("agent1", #"{"statusId":"Sleeping"}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.object["propertyName"] as? String == "statusId")
            #expect(try await agent1.setStatus("agent1", #"{"statusId":"On a call"}"#).status == .badRequest)
            #expect(try await agent1.setStatus("agent1", #"{}"#).status == .badRequest)
            #expect(try await agent1.setStatus("nobody", #"{"statusId":"Available"}"#).status == .notFound)
        }
    }

    @Test("The status watch sends a snapshot, then only what changed: status, logged in, on the phone; DELETE ends it")
    func watch() async throws {
        try await TestServer.make().run { http in
            let supervisor = try await http.session("supervisor1")
            #expect(try await supervisor.watchStatuses(#"{"userIds":["agent1","agent2"]}"#).status == .ok)
            let snapshot = try await supervisor.pollOne()
            #expect(snapshot.type == userStatusType)
            #expect(snapshot.isDelta == false)
            let list = try #require(snapshot.objects("userStatusList"))
            #expect(list.map { $0["userId"] as? String } == ["agent1", "agent2"])
            #expect(list.allSatisfy { $0["loggedIn"] as? Bool == false && $0["statusId"] as? String == "Available" })

            let agent1 = try await http.session("agent1")
            try await supervisor.expectMessages(
                #"[{"__type":"\#(userStatusType)","isDelta":true,"userStatusList":[{"userId":"agent1","statusId":"Available","loggedIn":true}]}]"#)

            #expect(try await agent1.setStatus("agent1", #"{"statusId":"Do not disturb"}"#).status == .accepted)
            let change = try await supervisor.pollOne()
            let entry = try #require(change.objects("userStatusList")?.first)
            #expect(entry["statusId"] as? String == "Do not disturb")
            // statusChanged has a one-second grain: a delta carries it only when its text changed.
            #expect(entry["loggedIn"] == nil, "unchanged properties stay out of a delta: \(entry)")

            _ = try await http.createInteraction(workgroup: nil, agent: "agent1")
            try await supervisor.expectMessages(
                #"[{"__type":"\#(userStatusType)","isDelta":true,"userStatusList":[{"userId":"agent1","statusId":"Do not disturb","onPhone":true}]}]"#)

            #expect(try await supervisor.send(.delete, "/messaging/subscriptions/status/user-statuses").status == .noContent)
            #expect(try await agent1.setStatus("agent1", #"{"statusId":"Available"}"#).status == .accepted)
            try await supervisor.expectNothing()
        }
    }

    @Test("userStatusProperties limits what the watch sends; unknown user ids are refused")
    func properties() async throws {
        try await TestServer.make().run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.watchStatuses(#"{"userIds":["agent2"],"userStatusProperties":["onPhone","presenceServer"]}"#).status == .ok)
            try await agent.expectMessages(
                #"[{"__type":"\#(userStatusType)","isDelta":false,"userStatusList":[{"userId":"agent2","statusId":"Available","onPhone":false}]}]"#)
            #expect(try await agent.watchStatuses(#"{"userIds":["ghost"]}"#).status == .badRequest)
            #expect(try await agent.watchStatuses(#"{}"#).status == .badRequest)
        }
    }

    @Test("A status outlives the session and the server (durable, as in CIC)")
    func durable() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("openicws-status-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await TestServer.make(dataDirectory: folder).run { http in
            let agent = try await http.session("agent1")
            #expect(try await agent.setStatus("agent1", #"{"statusId":"Gone home","notes":"see you"}"#).status == .accepted)
        }
        try await TestServer.make(dataDirectory: folder).run { http in
            let agent = try await http.session("agent1")
            let read = try await agent.send(.get, "/status/user-statuses/agent1").object
            #expect(read["statusId"] as? String == "Gone home")
            #expect(read["notes"] as? String == "see you")
        }
    }

    @Test("Routing skips a logged-in agent in Do not disturb; with no ACD-available member it answers 409")
    func routingHonoursStatus() async throws {
        try await TestServer.make().run { http in
            let agent1 = try await http.session("agent1")
            let agent2 = try await http.session("agent2")
            #expect(try await agent1.setStatus("agent1", #"{"statusId":"Do not disturb"}"#).status == .accepted)
            for _ in 0..<3 {
                let routed = try await http.admin(.post, "/admin/interactions", json: #"{"workgroup":"Support"}"#)
                #expect(routed.status == .created)
                #expect(routed.object["agent"] as? String == "agent2")
            }
            #expect(try await agent2.setStatus("agent2", #"{"statusId":"At lunch"}"#).status == .accepted)
            let refused = try await http.admin(.post, "/admin/interactions", json: #"{"workgroup":"Support"}"#)
            #expect(refused.status == .conflict)
            #expect(refused.errorId == "error.request.routing.noAgentAvailable")
            // "Available, Follow-up" is an ACD status too.
            #expect(try await agent1.setStatus("agent1", #"{"statusId":"Available, Follow-up"}"#).status == .accepted)
            #expect(try await http.admin(.post, "/admin/interactions", json: #"{"workgroup":"Support"}"#).object["agent"] as? String == "agent1")
        }
    }

    @Test("The features list advertises status, interactions and configuration")
    func features() async throws {
        try await TestServer.make().run { http in
            let features = try await http.send(.get, "/icws/connection/features").object.objects("featureInfoList") ?? []
            let ids = Set(features.compactMap { $0["featureId"] as? String })
            #expect(ids.isSuperset(of: ["status", "interactions", "configuration", "messaging", "queues"]))
        }
    }
}
