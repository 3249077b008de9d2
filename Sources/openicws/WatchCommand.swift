import ArgumentParser
import Foundation
import ICWSClient
import ICWSModel

/// `openicws watch agent-assistance|supervisor-assistance|queue NAME`: a live view of one subscription.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a subscription live: one readable line per change, or every ICWS message as JSON (--json). Ctrl-C logs out.",
        discussion: """
            agent-assistance       the requests you take part in (with their chat lines, unless --no-details)
            supervisor-assistance  the requests of the workgroups you supervise
            queue NAME             a queue: your own user queue when NAME is your user id, else the workgroup NAME
                                   (or say which with --queue-type)
            """)

    /// What to watch.
    enum Target: String, ExpressibleByArgument, CaseIterable {
        case agentAssistance = "agent-assistance"
        case supervisorAssistance = "supervisor-assistance"
        case queue
    }

    @Argument(help: "agent-assistance, supervisor-assistance or queue.")
    var target: Target

    @Argument(help: "The queue's name (with queue): a user id or a workgroup.")
    var name: String?

    @Flag(help: "Print every ICWS message as one JSON object per line, unchanged, flushed at once.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "Also watch the details (state, participants, chat lines) of every request listed. Default: on, off with --json.")
    var details: Bool?

    @Option(help: "With queue: user or workgroup (default: user when NAME is your user id, else workgroup).")
    var queueType: String?

    @OptionGroup var connection: ConnectionOptions

    static let queueAttributes = ["Eic_State", "Eic_RemoteName", "Eic_WorkgroupName", "Eic_ObjectType"]

    func validate() throws {
        if target == .queue, name == nil { throw ValidationError("watch queue needs the queue's NAME") }
        if target != .queue, name != nil { throw ValidationError("only watch queue takes a NAME") }
        if let queueType, queueType != "user", queueType != "workgroup" { throw ValidationError("--queue-type must be user or workgroup") }
    }

    func run() async throws {
        try await reportingICWSErrors {
            let client = try await connection.connect(applicationName: "openicws watch")
            let subscription = subscription(for: client.userId)
            Terminal.error("watching \(target.rawValue)\(name.map { " \($0)" } ?? "") as \(client.userId) on \(client.server) (session \(client.sessionId)); Ctrl-C logs out")
            let ended: String?
            do {
                let view = WatchView(client: client, details: details ?? !json, json: json)
                ended = try await Terminal.runCancellableBySignals {
                    try await client.subscribe(subscription)
                    return try await view.run()
                }
            } catch {
                try? await client.logout()
                throw error
            }
            try? await client.logout()
            if let ended {
                Terminal.error("the session ended: \(ended)")
                throw ExitCode(1)
            }
            Terminal.error("logged out")
        }
    }

    private func subscription(for userId: String) -> ICWSSubscription {
        switch target {
        case .agentAssistance: return .agentAssistance
        case .supervisorAssistance: return .supervisorAssistance
        case .queue:
            let queueName = name ?? userId
            let isUser = queueType.map { $0 == "user" } ?? (queueName == userId)
            return .queue(subscriptionId: "openicws-watch", queues: [isUser ? .user(queueName) : .workgroup(queueName)], attributes: Self.queueAttributes)
        }
    }
}

/// Reads the messages of a watch and prints them: raw JSON lines, or one readable line per change.
struct WatchView: Sendable {
    let client: ICWSClient
    let details: Bool
    let json: Bool

    /// Runs until cancelled (`nil`) or until the session ends (its reason).
    func run() async throws -> String? {
        for try await received in client.messages {
            if json {
                Terminal.line(received.json)
            }
            try await follow(received.message)
            if !json {
                let stamp = Terminal.paint(Self.clock(), .grey)
                for line in describe(received.message) { Terminal.line(stamp + " " + line) }
            }
            if case .connectionStateChange(let change) = received.message { return change.reason }
        }
        return nil
    }

    /// Subscribes to (and drops) the details of the requests that join (and leave) the list.
    private func follow(_ message: ICWSMessage) async throws {
        guard details else { return }
        var joined: [ICWSSubscription] = []
        var left: [ICWSSubscription] = []
        switch message {
        case .assistanceRequestList(let list):
            joined = (list.requestsAdded ?? []).map { .agentAssistanceDetails(assistanceId: $0) }
            left = (list.requestsRemoved ?? []).map { .agentAssistanceDetails(assistanceId: $0) }
        case .supervisorAssistanceRequest(let list):
            joined = (list.requestsAdded ?? []).map { .supervisorAssistanceDetails(assistanceId: $0.assistanceId) }
            left = (list.requestsRemoved ?? []).map { .supervisorAssistanceDetails(assistanceId: $0) }
        default:
            return
        }
        for subscription in left { try? await client.unsubscribe(subscription) }
        for subscription in joined {
            do {
                try await client.subscribe(subscription)
            } catch let error as ICWSClientError where !error.isSessionEnded {
                Terminal.error("cannot watch the details of \(subscription): \(error)")
            }
        }
    }

    /// The local time of day, `HH:mm:ss`.
    static func clock() -> String {
        Date().formatted(.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits))
    }

    static func name(_ state: AssistanceRequestState) -> String {
        switch state {
        case .waiting: return Terminal.paint("waiting", .yellow)
        case .accepted: return Terminal.paint("accepted", .green)
        case .completed: return Terminal.paint("completed", .blue)
        }
    }

    static func name(_ action: AssistanceParticipantAction) -> String {
        switch action {
        case .none: return "no action yet"
        case .initiated: return "initiated"
        case .ignored: return "ignored"
        case .accepted: return "accepted"
        }
    }

    /// The readable lines for one message (none for list changes the details lines already tell).
    func describe(_ message: ICWSMessage) -> [String] {
        let id = { (text: String) in Terminal.paint(text, .bold) }
        switch message {
        case .assistanceRequestList(let list):
            if !list.isDelta && (list.requestsAdded ?? []).isEmpty { return ["no active requests"] }
            var lines = (list.requestsRemoved ?? []).map { "\(id($0)) left your list" }
            if !details { lines += (list.requestsAdded ?? []).map { "\(id($0)) joined your list" } }
            return lines
        case .assistanceRequestDetails(let request):
            var lines: [String] = []
            if !request.isDelta {
                lines.append("\(id(request.assistanceId)) on interaction \(request.interactionId ?? "?"): \(request.state.map(Self.name) ?? "?")"
                    + ", " + (request.participantsAdded ?? []).map { "\($0.userId) \(Self.name($0.action))" }.joined(separator: ", "))
            } else if let state = request.state {
                lines.append("\(id(request.assistanceId)) is now \(Self.name(state))")
            }
            if request.isDelta {
                for participant in (request.participantsAdded ?? []) + (request.participantsChanged ?? []) {
                    lines.append("\(id(request.assistanceId)) \(participant.userId) \(Self.name(participant.action))")
                }
            }
            for line in request.messagesAdded ?? [] {
                lines.append("\(id(request.assistanceId)) \(Terminal.paint(line.participantId + ":", .cyan)) \(line.text)")
            }
            return lines
        case .supervisorAssistanceRequest(let list):
            var lines: [String] = []
            if !list.isDelta && (list.requestsAdded ?? []).isEmpty { lines.append("no active requests in your workgroups") }
            for request in list.requestsAdded ?? [] {
                lines.append("\(Terminal.paint("+", .green)) \(id(request.assistanceId)) \(request.workgroup) from \(request.initiator.userId) on \(request.interactionId): \(Self.name(request.state)), you: \(Self.name(request.action)) — \(request.problemDescription)")
            }
            for request in list.requestsChanged ?? [] {
                lines.append("\(Terminal.paint("~", .yellow)) \(id(request.assistanceId)) \(Self.name(request.state)), you: \(Self.name(request.action))")
            }
            for removed in list.requestsRemoved ?? [] { lines.append("\(Terminal.paint("-", .red)) \(id(removed)) completed") }
            return lines
        case .queueContents(let contents):
            var lines: [String] = []
            if !contents.isDelta && (contents.interactionsAdded ?? []).isEmpty { lines.append("the queue is empty") }
            func attributes(_ interaction: QueueInteraction) -> String {
                WatchCommand.queueAttributes.compactMap { name in interaction.attributes[name].map { "\(name)=\($0)" } }.joined(separator: " ")
            }
            for interaction in contents.interactionsAdded ?? [] {
                lines.append("\(Terminal.paint("+", .green)) \(id(interaction.interactionId)) \(attributes(interaction))")
            }
            for interaction in contents.interactionsChanged ?? [] {
                lines.append("\(Terminal.paint("~", .yellow)) \(id(interaction.interactionId)) \(attributes(interaction))")
            }
            for removed in contents.interactionsRemoved ?? [] { lines.append("\(Terminal.paint("-", .red)) \(id(removed)) left the queue") }
            return lines
        case .subscriptionState(let state):
            let detail = state.error.map { ": \($0.message)" } ?? ""
            switch state.state {
            case .normal: return [Terminal.paint("watch state normal", .green) + detail]
            case .suspended: return [Terminal.paint("watch suspended", .yellow) + detail]
            case .faulted: return [Terminal.paint("watch faulted", .red) + detail]
            case .none: return ["watch state none" + detail]
            }
        case .connectionStateChange(let change):
            return [Terminal.paint("session ended", .red) + ": \(change.reason)"]
        case .unknown(let type):
            return ["a message of unknown type \(type.isEmpty ? "(none)" : type)"]
        }
    }
}
