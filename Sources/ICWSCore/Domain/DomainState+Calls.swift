import Foundation

/// Calls an agent places, and interaction attributes.
extension DomainState {
    /// Places an outbound, non-ACD call for `user`. There is no telephony: it is connected at once, and its
    /// remote name and number are the target.
    public func placeCall(by user: DirectoryUser, target: String, at now: Date) throws(DomainError) -> Change<Interaction> {
        let target = target.trimmingCharacters(in: .whitespaces)
        guard !target.isEmpty else { throw .missingProperty("target") }
        guard target.count <= Limits.attributeNameLength else {
            throw .invalidProperty("target", "is longer than \(Limits.attributeNameLength) characters")
        }
        let interaction = Interaction(
            id: String(nextInteractionNumber), type: "call", remoteName: target, workgroup: nil, agent: user.userId,
            state: .connected, createdAt: now, direction: .outgoing, remoteId: target)
        return Change([.interactionSaved(interaction)], result: interaction)
    }

    /// The interaction, for a user allowed to read or write its attributes: its agent, a supervisor of its
    /// workgroup (or, for a non-ACD interaction, of one of the agent's workgroups), or an administrator.
    public func interactionForAttributes(_ id: String, user: DirectoryUser, directory: Directory) throws(DomainError) -> Interaction {
        guard let interaction = interactions[id] else { throw .notFound("The interaction '\(id)' does not exist.") }
        let groups = interaction.workgroup.map { [$0] } ?? Array(directory.memberships[interaction.agent] ?? [])
        guard interaction.agent == user.userId || user.administrator || groups.contains(where: { directory.supervises(user.userId, $0) })
        else { throw .accessDenied("Only the interaction's agent and its workgroup's supervisors may use its attributes.") }
        return interaction
    }

    /// Sets custom attributes (`POST /icws/{sessionId}/interactions/{id}`). The attributes the server computes
    /// (`Eic_State`, `Eic_RemoteName`, …) are read-only.
    public func setAttributes(
        _ values: [String: String], on id: String, by user: DirectoryUser, directory: Directory
    ) throws(DomainError) -> Change<Void> {
        var interaction = try interactionForAttributes(id, user: user, directory: directory)
        for name in values.keys.sorted() {
            guard !name.isEmpty, name.count <= Limits.attributeNameLength else {
                throw .invalidProperty("attributes", "an attribute name must have 1 to \(Limits.attributeNameLength) characters")
            }
            guard InteractionAttributes.computedName(name) == nil else {
                throw .invalidProperty("attributes", "'\(name)' is set by the server and cannot be written")
            }
            guard let value = values[name], value.count <= Limits.attributeValueLength else {
                throw .invalidProperty("attributes", "the value of '\(name)' is longer than \(Limits.attributeValueLength) characters")
            }
            // Names are case-insensitive: a name set before under another case keeps its first spelling.
            let key = interaction.attributes.keys.first { $0.caseInsensitiveCompare(name) == .orderedSame } ?? name
            interaction.attributes[key] = value
        }
        guard interaction.attributes.count <= Limits.attributesPerInteraction else {
            throw .limitReached("attributesPerInteraction", "An interaction may hold \(Limits.attributesPerInteraction) custom attributes.")
        }
        guard interaction != interactions[id] else { return .none }
        return Change([.interactionSaved(interaction)])
    }
}

/// The values of interaction attributes, computed ones and custom ones alike: `?select=` and queue watches
/// read them here, so both always agree.
public enum InteractionAttributes {
    /// The attributes the server computes from the interaction; clients cannot set them.
    public static let computed: Set<String> = [
        "Eic_CallId", "Eic_CallIdKey", "Eic_State", "Eic_CallState", "Eic_CallStateString", "Eic_RemoteName", "Eic_RemoteId",
        "Eic_RemoteAddress", "Eic_WorkgroupName", "Eic_ObjectType", "Eic_UserName", "Eic_AssignedUserId", "Eic_CallDirection",
        "Eic_LocalId", "Eic_LocalName", "Eic_ImmediateAccess",
    ]

    private static let computedByLowercase = Dictionary(computed.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })

    /// The canonical spelling of a computed attribute's name (names are case-insensitive), nil for a custom one.
    public static func computedName(_ name: String) -> String? {
        computed.contains(name) ? name : computedByLowercase[name.lowercased()]
    }

    /// The named attributes as strings, keyed as asked; an attribute that is neither computed nor set is "".
    public static func values(of interaction: Interaction, _ names: [String], directory: Directory) -> [String: String] {
        var result: [String: String] = [:]
        for name in names { result[name] = value(name, of: interaction, directory: directory) }
        return result
    }

    static func value(_ name: String, of interaction: Interaction, directory: Directory) -> String {
        guard let canonical = computedName(name) else {
            if let value = interaction.attributes[name] { return value }
            return interaction.attributes.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value ?? ""
        }
        switch canonical {
        case "Eic_CallId", "Eic_CallIdKey": return interaction.id
        case "Eic_State":
            switch interaction.state {
            case .alerting: return "A"
            case .connected: return "C"
            case .disconnected: return "I"
            }
        case "Eic_CallState", "Eic_CallStateString":
            switch interaction.state {
            case .alerting: return "Alerting"
            case .connected: return "Connected"
            case .disconnected: return "Disconnected"
            }
        case "Eic_RemoteName": return interaction.remoteName
        case "Eic_RemoteId", "Eic_RemoteAddress": return interaction.remoteId.isEmpty ? madeUpNumber(for: interaction) : interaction.remoteId
        case "Eic_WorkgroupName": return interaction.workgroup ?? ""
        case "Eic_ObjectType":
            switch interaction.type {
            case "chat": return "Chat"
            case "email": return "Email Object"
            default: return "Call"
            }
        case "Eic_UserName", "Eic_AssignedUserId": return interaction.agent
        case "Eic_CallDirection": return interaction.direction.rawValue
        case "Eic_LocalId": return directory.user(interaction.agent)?.phoneExtension ?? ""
        case "Eic_LocalName": return directory.user(interaction.agent)?.displayName ?? interaction.agent
        case "Eic_ImmediateAccess": return "1"
        default: return interaction.attributes[name] ?? ""
        }
    }

    /// The remote id of an interaction created without one: a number in the 555 range for a call, the remote
    /// name for a chat or an email.
    static func madeUpNumber(for interaction: Interaction) -> String {
        guard interaction.type == "call" else { return interaction.remoteName }
        return "+1317555" + String(String(repeating: "0", count: 4) + interaction.id).suffix(4)
    }
}
