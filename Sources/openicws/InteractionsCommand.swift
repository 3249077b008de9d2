import ArgumentParser
import Foundation
import ICWSClient
import ICWSCore

/// `openicws interactions create|list|disconnect`: the admin API's interactions.
struct InteractionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactions",
        abstract: "Create, list and disconnect interactions through the admin API (stands in for the telephony/ACD side).",
        subcommands: [Create.self, List.self, Disconnect.self])

    /// Prints one interaction as a readable line.
    static func describe(_ interaction: ICWSAdmin.Interaction) -> String {
        "\(interaction.interactionId)  \(interaction.state)  \(interaction.type)  agent \(interaction.agent)  workgroup \(interaction.workgroup ?? "-")  \(interaction.remoteName)"
    }

    static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder.icws.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an interaction for a workgroup (routed to a logged-in member) or for an agent; prints its id.")

        @Option(help: "The workgroup to route it through (ACD). Without it, --agent gets a non-ACD interaction.")
        var workgroup: String?

        @Option(help: "The agent to assign it to (with --workgroup: a member of it).")
        var agent: String?

        @Option(help: "call, chat or email.")
        var type = "call"

        @Option(help: "The remote party's name.")
        var remoteName = "Caller"

        @Flag(help: "Print the created interaction as one JSON object instead of its id.")
        var json = false

        @OptionGroup var admin: AdminOptions

        func validate() throws {
            guard workgroup != nil || agent != nil else { throw ValidationError("give --workgroup, --agent, or both") }
        }

        func run() async throws {
            let admin = try admin.admin()
            try await reportingICWSErrors {
                let created = try await admin.createInteraction(workgroup: workgroup, agent: agent, type: type, remoteName: remoteName)
                Terminal.line(json ? InteractionsCommand.json(created) : created.interactionId)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the interactions the server holds, one per line.")

        @Flag(help: "Print one JSON object per interaction.")
        var json = false

        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let admin = try admin.admin()
            try await reportingICWSErrors {
                for interaction in try await admin.interactions() {
                    Terminal.line(json ? InteractionsCommand.json(interaction) : InteractionsCommand.describe(interaction))
                }
            }
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disconnect an interaction (its active request is completed).")

        @Argument(help: "The interaction id.")
        var id: String

        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let admin = try admin.admin()
            try await reportingICWSErrors {
                try await admin.disconnectInteraction(id)
                Terminal.line("disconnected \(id)")
            }
        }
    }
}
