import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the client commands need from the terminal: whether output is one, colour, flushed lines, a
/// password prompt without echo, and Ctrl-C.
enum Terminal {
    /// Whether standard output is a terminal (colour and a live progress line only then).
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    /// Whether standard error is a terminal.
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1
    /// Colour on standard output: a terminal, `NO_COLOR` unset and `TERM` not `dumb`.
    static let colour: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return stdoutIsTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }()

    /// ANSI colours used by the readable views.
    enum Colour: String {
        case green = "32", red = "31", yellow = "33", blue = "34", magenta = "35", cyan = "36", grey = "90", bold = "1"
    }

    /// `text` in `colour` when standard output is a colour terminal, else unchanged.
    static func paint(_ text: String, _ colour: Colour) -> String {
        self.colour ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Writes one line to standard output at once (unbuffered), so a pipe reader sees it immediately.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes one line to standard error.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Rewrites the current line of standard error (a progress line); only on a terminal.
    static func progress(_ text: String) {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    /// Ends a progress line.
    static func endProgress() {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// Reads a password from the terminal with echo off; `nil` when standard input is not a terminal.
    static func readPassword(prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        let line = readLine(strippingNewline: true)
        if haveTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        FileHandle.standardError.write(Data("\n".utf8))
        return line
    }

    /// Runs `body` as a task that Ctrl-C (SIGINT) or SIGTERM cancels; the task then cleans up (logs out).
    static func runCancellableBySignals<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return try await task.value
    }
}
