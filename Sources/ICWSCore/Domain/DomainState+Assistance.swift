import Foundation
import ICWSModel

/// The assistance commands: each checks its rules against the state and returns the events to commit.
extension DomainState {
    /// Longest accepted chat line or problem description, in characters.
    public static let maxTextLength = Limits.maxTextCharacters

    /// Trims and checks the `text` of a request or chat line: not empty, at most `Limits.maxTextCharacters`
    /// characters and `Limits.maxTextBytes` UTF-8 bytes, no NUL (it would not survive every store).
    public static func validText(_ text: String?) throws(DomainError) -> String {
        guard let text else { throw .missingProperty("text") }
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else { throw .invalidProperty("text", "must not be empty") }
        guard trimmed.count <= maxTextLength, trimmed.utf8.count <= Limits.maxTextBytes else {
            throw .invalidProperty("text", "must be at most \(maxTextLength) characters and \(Limits.maxTextBytes) bytes of UTF-8")
        }
        guard !trimmed.utf8.contains(0) else { throw .invalidProperty("text", "must not contain NUL characters") }
        return trimmed
    }

    /// Refuses a chat line past `Limits.chatLinesPerRequest`.
    static func checkRoomForLine(in request: AssistanceRequest, limits: Limits) throws(DomainError) {
        guard request.lines.count < limits.chatLinesPerRequest else {
            Limits.refused("chat_lines_per_request")
            throw .limitReached(
                "chatLinesPerRequest", "The assistance request has \(limits.chatLinesPerRequest) chat lines, the most it may hold.")
        }
    }

    /// An agent asks the supervisors of the interaction's workgroup for help; the answer is the new assistance id.
    public func requestAssistance(by user: DirectoryUser, interactionId: String, text: String, at now: Date) throws(DomainError) -> Change<String> {
        guard user.rights.canRequestAssistanceFromSupervisor else {
            throw .assistance("notAllowed", "You do not have the right to request assistance from a supervisor.")
        }
        guard let interaction = interactions[interactionId] else {
            throw .notFound("The interaction '\(interactionId)' does not exist.")
        }
        guard interaction.agent == user.userId else {
            throw .assistance("notOwner", "The interaction is not assigned to you.")
        }
        guard interaction.state != .disconnected else {
            throw .assistance("interactionDisconnected", "The interaction is disconnected.")
        }
        guard let workgroup = interaction.workgroup else {
            throw .assistance("notAcdRouted", "The interaction was not ACD-routed to a workgroup.")
        }
        guard activeByInteraction[interactionId] == nil else {
            throw Self.alreadyActive
        }
        let id = AssistanceIdentifiers.make(nextAssistanceNumber)
        let header = AssistanceRequest.Header(
            id: id, interactionId: interactionId, workgroup: workgroup, initiator: user.userId, state: .waiting, createdAt: now)
        return Change([
            .requestSaved(header),
            .participantSaved(assistanceId: id, position: 0, .init(userId: user.userId, action: .initiated)),
            .chatLineAdded(assistanceId: id, position: 0, .init(participantId: user.userId, text: text, timeAdded: now)),
        ], result: id)
    }

    /// The refusal of a second active request on one interaction (also what a shared store's constraint means).
    public static let alreadyActive = DomainError.assistance("alreadyActive", "The interaction already has an active assistance request.")

    /// The initiator completes ("Done") the request; completing a completed request changes nothing.
    public func completeAssistance(by user: DirectoryUser, assistanceId: String) throws(DomainError) -> Change<Void> {
        guard let request = requests[assistanceId], request.initiator == user.userId else {
            throw .assistance("notFound", "No assistance request '\(assistanceId)' initiated by you exists.")
        }
        guard request.isActive else { return .none }
        return Change([Self.completion(of: request)])
    }

    static func completion(of request: AssistanceRequest) -> DomainEvent {
        var header = request.header
        header.state = .completed
        return .requestSaved(header)
    }

    /// A chat line from the initiator or a supervisor who accepted.
    public func addChatLine(
        by user: DirectoryUser, assistanceId: String, text: String, at now: Date, limits: Limits = Limits()
    ) throws(DomainError) -> Change<Void> {
        guard let request = requests[assistanceId] else {
            throw .notFound("The assistance request '\(assistanceId)' does not exist.")
        }
        guard request.initiator == user.userId || request.action(of: user.userId) == .accepted else {
            throw .assistance("notParticipant", "Only the initiator and supervisors who accepted may add chat lines.")
        }
        guard request.isActive else {
            throw .assistance("completed", "The assistance request is completed.")
        }
        try Self.checkRoomForLine(in: request, limits: limits)
        return Change([Self.line(text, by: user.userId, at: now, after: request)])
    }

    private static func line(_ text: String, by userId: String, at now: Date, after request: AssistanceRequest) -> DomainEvent {
        .chatLineAdded(
            assistanceId: request.id, position: request.lines.count,
            .init(participantId: userId, text: text, timeAdded: now))
    }

    /// A supervisor accepts (3), ignores (2) and/or adds a chat line.
    public func supervisorAction(
        by user: DirectoryUser, assistanceId: String, action: AssistanceParticipantAction?, text: String?, at now: Date,
        directory: Directory, limits: Limits = Limits()
    ) throws(DomainError) -> Change<Void> {
        if let action, action != .accepted, action != .ignored {
            throw .invalidProperty("action", "must be 3 (accept) or 2 (ignore)")
        }
        guard action != nil || text != nil else { throw .missingProperty("action") }
        guard let request = requests[assistanceId] else {
            throw .notFound("The assistance request '\(assistanceId)' does not exist.")
        }
        guard directory.supervises(user.userId, request.workgroup) else {
            throw .accessDenied("You are not a supervisor of the workgroup '\(request.workgroup)'.")
        }
        guard request.isActive else {
            throw .assistance("completed", "The assistance request is completed.")
        }
        let current = request.action(of: user.userId)
        if action == .ignored && current == .accepted {
            throw .assistance("alreadyAccepted", "You accepted this request; it cannot be ignored now.")
        }
        let willHaveAccepted = action == .accepted || current == .accepted
        if text != nil && !willHaveAccepted {
            throw .assistance("notAccepted", "Accept the request before adding chat lines.")
        }
        if text != nil { try Self.checkRoomForLine(in: request, limits: limits) }
        var events: [DomainEvent] = []
        if let action, action != current {
            let position = request.participants.firstIndex { $0.userId == user.userId } ?? request.participants.count
            if action == .accepted && request.state != .accepted {
                var header = request.header
                header.state = .accepted
                events.append(.requestSaved(header))
            }
            events.append(.participantSaved(assistanceId: request.id, position: position, .init(userId: user.userId, action: action)))
        }
        if let text { events.append(Self.line(text, by: user.userId, at: now, after: request)) }
        return Change(events)
    }

    /// The request if `userId` may watch its details: from the agent side (initiator or supervisor of its
    /// workgroup), or from the supervisor side (supervisor of its workgroup).
    public func requestForDetails(_ id: String, userId: String, side: AssistanceSide, directory: Directory) throws(DomainError) -> AssistanceRequest {
        guard let request = requests[id] else {
            throw .notFound("The assistance request '\(id)' does not exist.")
        }
        let supervises = directory.supervises(userId, request.workgroup)
        switch side {
        case .agent:
            guard request.initiator == userId || supervises else {
                throw .assistance("notParticipant", "Only the initiator and supervisors of its workgroup may watch the assistance request '\(id)'.")
            }
        case .supervisor:
            guard supervises else {
                throw .accessDenied("You are not a supervisor of the workgroup '\(request.workgroup)'.")
            }
        }
        return request
    }
}

/// Which side of the assistance conversation a watch is on.
public enum AssistanceSide: Sendable, Hashable {
    case agent, supervisor
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
