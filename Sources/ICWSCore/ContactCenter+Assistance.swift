import Foundation
import ICWSModel

extension ContactCenter {
    /// Longest accepted chat line or problem description.
    public static let maxTextLength = 2_000

    /// Trims and checks the `text` of a request or chat line.
    static func validText(_ text: String?) throws -> String {
        guard let text else { throw ICWSError.missingProperty("text") }
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else { throw ICWSError.invalidProperty("text", "must not be empty") }
        guard trimmed.count <= maxTextLength else {
            throw ICWSError.invalidProperty("text", "must be at most \(maxTextLength) characters")
        }
        return trimmed
    }

    /// `POST /icws/{sid}/interactions/{interactionId}/agent-assistance`: returns the new assistance id.
    /// `text` is checked here (missing, empty, too long) before anything else.
    public func requestAssistance(user: DirectoryUser, interactionId: String, text: String?) async throws -> String {
        let text = try Self.validText(text)
        return try await perform { [self] in
            guard user.rights.canRequestAssistanceFromSupervisor else {
                throw ICWSError.assistance("notAllowed", "You do not have the right to request assistance from a supervisor.")
            }
            guard let interaction = domain.interactions[interactionId] else {
                throw ICWSError.notFound("The interaction '\(interactionId)' does not exist.")
            }
            guard interaction.agent == user.userId else {
                throw ICWSError.assistance("notOwner", "The interaction is not assigned to you.")
            }
            guard interaction.state != .disconnected else {
                throw ICWSError.assistance("interactionDisconnected", "The interaction is disconnected.")
            }
            guard let workgroup = interaction.workgroup else {
                throw ICWSError.assistance("notAcdRouted", "The interaction was not ACD-routed to a workgroup.")
            }
            guard domain.activeByInteraction[interactionId] == nil else {
                throw ICWSError.assistance("alreadyActive", "The interaction already has an active assistance request.")
            }
            let now = clock.now()
            let id = AssistanceIdentifiers.make(nextAssistanceNumber)
            nextAssistanceNumber += 1
            let initiator = AssistanceRequest.Participant(userId: user.userId, action: .initiated)
            let line = AssistanceRequest.ChatLine(participantId: user.userId, text: text, timeAdded: now)
            let request = AssistanceRequest(
                id: id, interactionId: interactionId, workgroup: workgroup, initiator: user.userId, state: .waiting,
                participants: [initiator], lines: [line], createdAt: now)
            domain.put(request)
            batch.operations += [
                .saveRequest(request), .saveParticipant(assistanceId: id, position: 0, initiator),
                .addChatLine(assistanceId: id, position: 0, line),
            ]
            batch.touchedRequests.append(id)
            return id
        }
    }

    /// `DELETE /icws/{sid}/interactions/agent-assistance/{assistanceId}`: the initiator completes ("Done").
    public func completeAssistance(user: DirectoryUser, assistanceId: String) async throws {
        try await perform { [self] in
            guard let request = domain.requests[assistanceId], request.initiator == user.userId else {
                throw ICWSError.assistance("notFound", "No assistance request '\(assistanceId)' initiated by you exists.")
            }
            guard request.isActive else { return }
            complete(request)
        }
    }

    func complete(_ request: AssistanceRequest) {
        var request = request
        request.state = .completed
        domain.put(request)
        batch.operations.append(.saveRequest(request))
        batch.touchedRequests.append(request.id)
    }

    /// `POST /icws/{sid}/interactions/agent-assistance/{assistanceId}`: a chat line from the initiator or an accepting supervisor.
    public func addChatLine(user: DirectoryUser, assistanceId: String, text: String?) async throws {
        let text = try Self.validText(text)
        try await perform { [self] in
            guard let request = domain.requests[assistanceId] else {
                throw ICWSError.notFound("The assistance request '\(assistanceId)' does not exist.")
            }
            guard request.initiator == user.userId || request.action(of: user.userId) == .accepted else {
                throw ICWSError.assistance("notParticipant", "Only the initiator and supervisors who accepted may add chat lines.")
            }
            guard request.isActive else {
                throw ICWSError.assistance("completed", "The assistance request is completed.")
            }
            append(line: text, by: user.userId, to: request)
        }
    }

    private func append(line text: String, by userId: String, to request: AssistanceRequest) {
        var request = request
        let line = AssistanceRequest.ChatLine(participantId: userId, text: text, timeAdded: clock.now())
        request.lines.append(line)
        domain.put(request)
        batch.operations.append(.addChatLine(assistanceId: request.id, position: request.lines.count - 1, line))
        batch.touchedRequests.append(request.id)
    }

    /// `POST /icws/{sid}/interactions/supervisor-assistance/{assistanceId}`: accept (3), ignore (2) and/or a chat line.
    public func supervisorAction(
        user: DirectoryUser, assistanceId: String, action: AssistanceParticipantAction?, text: String?
    ) async throws {
        let text = try text.map { try Self.validText($0) }
        if let action, action != .accepted, action != .ignored {
            throw ICWSError.invalidProperty("action", "must be 3 (accept) or 2 (ignore)")
        }
        guard action != nil || text != nil else { throw ICWSError.missingProperty("action") }
        try await perform { [self] in
            guard let request = domain.requests[assistanceId] else {
                throw ICWSError.notFound("The assistance request '\(assistanceId)' does not exist.")
            }
            guard directory.supervises(user.userId, request.workgroup) else {
                throw ICWSError.accessDenied("You are not a supervisor of the workgroup '\(request.workgroup)'.")
            }
            guard request.isActive else {
                throw ICWSError.assistance("completed", "The assistance request is completed.")
            }
            let current = request.action(of: user.userId)
            if action == .ignored && current == .accepted {
                throw ICWSError.assistance("alreadyAccepted", "You accepted this request; it cannot be ignored now.")
            }
            let willHaveAccepted = action == .accepted || current == .accepted
            if text != nil && !willHaveAccepted {
                throw ICWSError.assistance("notAccepted", "Accept the request before adding chat lines.")
            }
            var updated = request
            if let action, action != current {
                let participant = AssistanceRequest.Participant(userId: user.userId, action: action)
                let position: Int
                if let index = updated.participants.firstIndex(where: { $0.userId == user.userId }) {
                    updated.participants[index] = participant
                    position = index
                } else {
                    updated.participants.append(participant)
                    position = updated.participants.count - 1
                }
                if action == .accepted { updated.state = .accepted }
                domain.put(updated)
                batch.operations += [.saveRequest(updated), .saveParticipant(assistanceId: updated.id, position: position, participant)]
                batch.touchedRequests.append(updated.id)
            }
            if let text { append(line: text, by: user.userId, to: updated) }
        }
    }

    /// The request if `userId` may watch its details from the agent side (initiator or supervisor of its workgroup).
    func requestForAgentDetails(_ id: String, userId: String) throws -> AssistanceRequest {
        guard let request = domain.requests[id] else {
            throw ICWSError.notFound("The assistance request '\(id)' does not exist.")
        }
        guard request.initiator == userId || directory.supervises(userId, request.workgroup) else {
            throw ICWSError.assistance("notParticipant", "Only the initiator and supervisors of its workgroup may watch the assistance request '\(id)'.")
        }
        return request
    }

    /// The request if `userId` supervises its workgroup.
    func requestForSupervisorDetails(_ id: String, userId: String) throws -> AssistanceRequest {
        guard let request = domain.requests[id] else {
            throw ICWSError.notFound("The assistance request '\(id)' does not exist.")
        }
        guard directory.supervises(userId, request.workgroup) else {
            throw ICWSError.accessDenied("You are not a supervisor of the workgroup '\(request.workgroup)'.")
        }
        return request
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines (native; Foundation's trim showed in profiles).
    public var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
