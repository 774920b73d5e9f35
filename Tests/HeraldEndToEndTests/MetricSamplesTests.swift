import HeraldLogic
import Testing

/// How the console adds up the figures of a cluster's processes.
@Suite("console: adding up processes' figures")
struct MetricSamplesTests {
    static func samples(_ text: String) -> MetricSamples { MetricSamples(text: Array(text.utf8)) }

    @Test("counters and additive gauges are summed; the phase and the registry gauge keep the lowest value")
    func add() {
        var logic = Self.samples(
            """
            herald_pushes_total{kind="room"} 5
            herald_migration_phase 2
            herald_registry_comets 2
            """)
        let job = Self.samples(
            """
            herald_queue_consumed_total 7
            herald_queue_lag{queue="kafka"} 3
            herald_migration_phase 1
            herald_registry_comets 2
            """)
        let comet = Self.samples(
            """
            herald_push_delivered_total 11
            herald_connections 4
            herald_queue_lag{queue="kafka"} 2
            """)
        logic.add(job)
        logic.add(comet)
        #expect(logic.values[#"herald_pushes_total{kind="room"}"#] == 5)
        #expect(logic.values["herald_queue_consumed_total"] == 7)
        #expect(logic.values["herald_push_delivered_total"] == 11)
        #expect(logic.values[#"herald_queue_lag{queue="kafka"}"#] == 5, "lag adds up over consumers")
        #expect(logic.values["herald_connections"] == 4)
        #expect(logic.values["herald_migration_phase"] == 1, "the process furthest behind, not 1 + 2")
        #expect(logic.values["herald_registry_comets"] == 2, "not 2 + 2")
    }
}
