import ArgumentParser
import ICWSClient

/// Logs in, runs `action`, and logs out whether it worked or not; ICWS errors exit 1.
func withSession(_ connection: ConnectionOptions, _ action: (ICWSClient) async throws -> Void) async throws {
    try await reportingICWSErrors {
        let client = try await connection.connect()
        do {
            try await action(client)
        } catch {
            try? await client.logout()
            throw error
        }
        try? await client.logout()
    }
}

/// A command that acts on one assistance request and says what it did: `<done> <id>`.
protocol AssistanceAction: AsyncParsableCommand {
    /// The assistance id.
    var id: String { get }
    var connection: ConnectionOptions { get }
    /// What is printed before the id once it worked, e.g. `completed`.
    static var done: String { get }
    func act(on client: ICWSClient) async throws
}

extension AssistanceAction {
    func run() async throws {
        try await withSession(connection) { client in
            try await act(on: client)
            Terminal.line("\(Self.done) \(id)")
        }
    }
}

/// `openicws request INTERACTION --text T`: asks the supervisors for help on an interaction.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Request assistance on an interaction ACD-routed to you; prints the new assistance id.")

    @Argument(help: "The interaction id.")
    var interaction: String

    @Option(help: "The problem description (the request's first chat line).")
    var text: String

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await withSession(connection) { client in
            Terminal.line(try await client.requestAssistance(interactionId: interaction, text: text))
        }
    }
}

/// `openicws say ID --text T`: adds a chat line to a request.
struct SayCommand: AssistanceAction {
    static let configuration = CommandConfiguration(
        commandName: "say", abstract: "Add a chat line to an assistance request (its initiator, or a supervisor who accepted it).")

    @Argument(help: "The assistance id.")
    var id: String

    @Option(help: "The chat line.")
    var text: String

    @OptionGroup var connection: ConnectionOptions

    static let done = "said on"

    func act(on client: ICWSClient) async throws {
        try await client.say(assistanceId: id, text: text)
    }
}

/// `openicws complete ID`: completes ("Done") a request you initiated.
struct CompleteCommand: AssistanceAction {
    static let configuration = CommandConfiguration(commandName: "complete", abstract: "Complete an assistance request you initiated.")

    @Argument(help: "The assistance id.")
    var id: String

    @OptionGroup var connection: ConnectionOptions

    static let done = "completed"

    func act(on client: ICWSClient) async throws {
        try await client.complete(assistanceId: id)
    }
}

/// `openicws accept ID`: a supervisor accepts a request.
struct AcceptCommand: AssistanceAction {
    static let configuration = CommandConfiguration(
        commandName: "accept", abstract: "Accept an assistance request as a supervisor of its workgroup.")

    @Argument(help: "The assistance id.")
    var id: String

    @Option(help: "A first chat line to send with the acceptance.")
    var text: String?

    @OptionGroup var connection: ConnectionOptions

    static let done = "accepted"

    func act(on client: ICWSClient) async throws {
        try await client.accept(assistanceId: id, text: text)
    }
}

/// `openicws ignore ID`: a supervisor ignores a request.
struct IgnoreCommand: AssistanceAction {
    static let configuration = CommandConfiguration(
        commandName: "ignore", abstract: "Ignore an assistance request as a supervisor of its workgroup (others still see it).")

    @Argument(help: "The assistance id.")
    var id: String

    @OptionGroup var connection: ConnectionOptions

    static let done = "ignored"

    func act(on client: ICWSClient) async throws {
        try await client.ignore(assistanceId: id)
    }
}
