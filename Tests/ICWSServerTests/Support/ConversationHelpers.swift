import Foundation
import HTTPTypes
import ICWSCore
import Testing

/// Whether `text` is the compact date every ICWS timestamp must have (`20240105T142233Z`).
func isCompactDate(_ text: String?) -> Bool {
    guard let text else { return false }
    return text.wholeMatch(of: #/\d{8}T\d{6}Z/#) != nil
}

/// The time a `ManualClock()` starts at, in the compact form.
let manualClockStart = "20240105T142233Z"

extension ICWSTestSession {
    func watchDetails(_ assistanceId: String) async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/interactions/agent-assistance/\(assistanceId)")
    }

    func unwatchDetails(_ assistanceId: String) async throws -> HTTPResult {
        try await send(.delete, "/messaging/subscriptions/interactions/agent-assistance/\(assistanceId)")
    }

    /// Watches both the supervisor-assistance and the agent-assistance list (each PUT must answer 204).
    func watchBothLists(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(try await watchSupervisorAssistance().status == .noContent, sourceLocation: sourceLocation)
        #expect(try await watchAgentAssistance().status == .noContent, sourceLocation: sourceLocation)
    }

    func watchSupervisorAssistance() async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/interactions/supervisor-assistance")
    }

    func unwatchSupervisorAssistance() async throws -> HTTPResult {
        try await send(.delete, "/messaging/subscriptions/interactions/supervisor-assistance")
    }

    func watchSupervisorDetails(_ assistanceId: String) async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/interactions/supervisor-assistance/\(assistanceId)")
    }

    func chat(_ assistanceId: String, _ text: String) async throws -> HTTPResult {
        try await send(.post, "/interactions/agent-assistance/\(assistanceId)", json: #"{"text":"\#(text)"}"#)
    }

    /// `POST …/interactions/supervisor-assistance/{id}` with a raw JSON body.
    func supervisorAct(_ assistanceId: String, _ json: String) async throws -> HTTPResult {
        try await send(.post, "/interactions/supervisor-assistance/\(assistanceId)", json: json)
    }

    func disconnect(_ interactionId: String) async throws -> HTTPResult {
        try await send(.post, "/interactions/\(interactionId)/disconnect")
    }

    func watchQueue(_ subscriptionId: String, _ json: String?) async throws -> HTTPResult {
        try await send(.put, "/messaging/subscriptions/queues/\(subscriptionId)", json: json)
    }

    func unwatchQueue(_ subscriptionId: String) async throws -> HTTPResult {
        try await send(.delete, "/messaging/subscriptions/queues/\(subscriptionId)")
    }

    /// Polls and requires exactly one message.
    func pollOne(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let messages = try await poll()
        try #require(messages.count == 1, "\(userId) expected one message, got \(canonicalJSON(messages))", sourceLocation: sourceLocation)
        return messages[0]
    }

    /// Polls and expects nothing queued.
    func expectNothing(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let messages = try await poll()
        #expect(messages.isEmpty, "\(userId) expected no message, got \(canonicalJSON(messages))", sourceLocation: sourceLocation)
    }

    /// Polls and expects exactly `expected` (JSON array of messages), compared as canonical JSON.
    func expectMessages(_ expected: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let messages = try await poll()
        expectJSON(messages, expected, sourceLocation: sourceLocation)
    }
}

/// A JSON value rendered with sorted keys, so two values compare equal exactly when their JSON is equal.
func canonicalJSON(_ value: Any?) -> String {
    guard let value else { return "nil" }
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else {
        return "\(value)"
    }
    return String(decoding: data, as: UTF8.self)
}

/// Expects `actual` (parsed JSON) to equal the JSON text `expected`, exactly: no missing and no extra properties.
func expectJSON(_ actual: Any?, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let parsed = try? JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed])
    #expect(parsed != nil, "expected JSON does not parse: \(expected)", sourceLocation: sourceLocation)
    #expect(canonicalJSON(actual) == canonicalJSON(parsed), sourceLocation: sourceLocation)
}

extension Dictionary where Key == String, Value == Any {
    /// The property names, for "carries only what changed" checks.
    var keySet: Set<String> { Set(keys) }
}

extension ICWSTestClient {
    /// agent1, then both Support supervisors logged in; each supervisor watches both assistance lists.
    func agentAndTwoSupervisors() async throws -> (ICWSTestSession, ICWSTestSession, ICWSTestSession) {
        let agent = try await session("agent1")
        let supervisor1 = try await session("supervisor1")
        let supervisor2 = try await session("supervisor2")
        for supervisor in [supervisor1, supervisor2] { try await supervisor.watchBothLists() }
        return (agent, supervisor1, supervisor2)
    }

    /// A session and an interaction assigned to it in `workgroup` with an assistance request on it.
    func request(by agent: ICWSTestSession, workgroup: String = "Support", text: String = "help") async throws -> (interactionId: String, assistanceId: String) {
        let interaction = try await createInteraction(workgroup: workgroup, agent: agent.userId)
        let id = try await agent.requestAssistanceId(interaction, text: text)
        return (interaction, id)
    }
}
