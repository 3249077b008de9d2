import Foundation
import NIOCore

/// User plus system CPU seconds a process has used so far (Linux `/proc/<pid>/stat`).
public func processCPUSeconds(_ pid: Int32) -> Double? {
    processCPUTimes(pid).map { $0.user + $0.system }
}

/// User and system CPU seconds a process has used so far, apart.
public func processCPUTimes(_ pid: Int32) -> (user: Double, system: Double)? {
    // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
    guard let fields = statFields(pid), fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (user / tick, system / tick)
}

/// CPU seconds of `pid` and its child processes (nginx's master and workers), from `/proc`.
public func processTreeCPUSeconds(_ pid: Int32) -> Double? {
    processTreeCPUTimes(pid).map { $0.user + $0.system }
}

/// User and system CPU seconds of `pid` and its child processes, apart.
public func processTreeCPUTimes(_ pid: Int32) -> (user: Double, system: Double)? {
    guard var total = processCPUTimes(pid) else { return nil }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
        // Field 4 is the parent's pid.
        guard let child = Int32(entry), child != pid, let fields = statFields(child), fields.count > 1, Int32(fields[1]) == pid,
            let times = processCPUTimes(child)
        else { continue }
        total.user += times.user
        total.system += times.system
    }
    return total
}

/// The fields of `/proc/<pid>/stat` after the command name (whose parentheses may hold spaces).
private func statFields(_ pid: Int32) -> [Substring]? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let afterName = stat.lastIndex(of: ")") else {
        return nil
    }
    return stat[stat.index(after: afterName)...].split(separator: " ")
}

/// CPU seconds this process (the generator) has used so far.
public func generatorCPUSeconds() -> Double? { processCPUSeconds(getpid()) }

/// The machine's CPU time by kind since boot (Linux `/proc/stat`, first line), in clock ticks.
public struct MachineCPU: Sendable {
    var user = 0.0, nice = 0.0, system = 0.0, idle = 0.0, iowait = 0.0, irq = 0.0, softirq = 0.0, steal = 0.0

    public static func now() -> MachineCPU? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 8 else { return nil }
        return MachineCPU(
            user: values[0], nice: values[1], system: values[2], idle: values[3], iowait: values[4], irq: values[5],
            softirq: values[6], steal: values[7])
    }

    var total: Double { user + nice + system + idle + iowait + irq + softirq + steal }

    /// Adds idle, I/O-wait and steal percentages between `before` and `after`: steal is CPU the hypervisor
    /// gave to other machines, so a run with much of it is not comparable with one without.
    static func report(_ before: MachineCPU?, _ after: MachineCPU?, into report: inout LoadReport) {
        guard let before, let after else { return }
        let total = after.total - before.total
        guard total > 0 else { return }
        report.add("machine_idle_pct", 100 * (after.idle - before.idle) / total)
        report.add("machine_iowait_pct", 100 * (after.iowait - before.iowait) / total)
        report.add("machine_steal_pct", 100 * (after.steal - before.steal) / total)
    }
}

/// Sets how many event-loop threads the generator uses; call before any connection is made.
public func useGeneratorThreads(_ count: Int) {
    NIOSingletons.groupLoopCountSuggestion = count
}
