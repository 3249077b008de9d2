import ICWSLoad
import Testing

/// `icws-bench fanout --rounds` reports the medians of its runs: a run that lost messages must still show.
@Suite("Benchmark medians over rounds")
struct LoadReportMedianTests {
    private func run(p99: Double, cpu: Double, missing: Double) -> LoadReport {
        var report = LoadReport(scenario: "fanout")
        report.add("latency_p99_ms", p99)
        report.add("server_cpu_us_per_delivery", cpu)
        report.add("missing", missing)
        return report
    }

    @Test("each figure is the median of the runs; missing messages are added up")
    func oddRounds() {
        let median = LoadReport.median(of: [
            run(p99: 70, cpu: 9, missing: 0), run(p99: 60, cpu: 11, missing: 3), run(p99: 120, cpu: 10, missing: 0),
        ])
        #expect(median.value("rounds") == 3)
        #expect(median.value("latency_p99_ms") == 70)
        #expect(median.value("server_cpu_us_per_delivery") == 10)
        #expect(median.value("missing") == 3)
        #expect(median.figures.map(\.0) == ["rounds", "latency_p99_ms", "server_cpu_us_per_delivery", "missing"])
    }

    @Test("with an even number of runs, the median is the mean of the middle two")
    func evenRounds() {
        let median = LoadReport.median(of: [run(p99: 60, cpu: 8, missing: 0), run(p99: 90, cpu: 12, missing: 0)])
        #expect(median.value("latency_p99_ms") == 75)
        #expect(median.value("server_cpu_us_per_delivery") == 10)
        #expect(median.value("missing") == 0)
    }
}
