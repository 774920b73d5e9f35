import HeraldCore
import HeraldProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import HeraldJob

/// The job's per-comet lanes. The comet here is a recording stand-in (not a real comet) because
/// these cases need a comet that refuses a chosen number of calls, or holds a call until released,
/// deterministically; the end-to-end and cluster suites run the same lanes against real comets.
@Suite("job: comet lanes")
struct CometLaneTests {
    final class Recorder: CometPusher, @unchecked Sendable {
        let serverID: CometID
        let calls = NIOLockedValueBox<[(target: String, bodies: [String])]>([])
        let failuresLeft = NIOLockedValueBox(0)
        /// When set, only calls for this target fail.
        let failing = NIOLockedValueBox<String?>(nil)
        /// Bodies the comet refuses for good (PushRefused).
        let refusedBodies = NIOLockedValueBox<Set<String>>([])
        let held = NIOLockedValueBox(false)
        let maxConcurrent = NIOLockedValueBox((now: 0, max: 0))

        init(_ id: CometID) { serverID = id }

        private func record(_ target: String, _ unit: PushUnit) async throws {
            maxConcurrent.withLockedValue {
                $0.now += 1; $0.max = max($0.max, $0.now)
            }
            defer { maxConcurrent.withLockedValue { $0.now -= 1 } }
            while held.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
            let bodies = try PacketBatch.split(unit.packets).map { String(buffer: $0.body) }
            if !refusedBodies.withLockedValue({ $0 }).isDisjoint(with: bodies) { throw PushRefused("refused for good by the test") }
            let applies = failing.withLockedValue { $0 }.map { $0 == target } ?? true
            if applies,
                failuresLeft.withLockedValue({ n in
                    defer { n = max(0, n - 1) }; return n > 0
                })
            {
                throw QueueError("refused by the test")
            }
            calls.withLockedValue { $0.append((target, bodies)) }
        }

        func push(keys: [String], operation: Int32, unit: PushUnit) async throws {
            try await record("k:\(keys.joined(separator: ","))", unit)
        }
        /// Sizes of the batch calls (``CometPusher/push(_:)``), in call order.
        let batchSizes = NIOLockedValueBox<[Int]>([])
        func push(_ batch: [KeyPush]) async throws {
            batchSizes.withLockedValue { $0.append(batch.count) }
            for item in batch { try await push(keys: item.keys, operation: item.operation, unit: item.unit) }
        }
        func broadcast(operation: Int32, unit: PushUnit, speed: Int32) async throws { try await record("b", unit) }
        func broadcastRoom(_ room: String, unit: PushUnit) async throws { try await record("r:\(room)", unit) }
        func rooms() async throws -> [String] { [] }
    }

    final class Acks: Sendable {
        let positions = NIOLockedValueBox<[UInt64]>([])
        func progress(_ position: UInt64, comets: Int = 1) -> DeliveryProgress {
            DeliveryProgress(QueueDelivery(message: PushMsg(), position: position), comets: comets) { d in
                self.positions.withLockedValue { $0.append(d.position) }
            }
        }
    }

    static func item(_ target: PushTarget, _ body: String, _ progress: DeliveryProgress) -> CometLane.Item {
        var msg = PushMsg()
        msg.operation = 1000
        msg.msg = .init(body.utf8)
        return CometLane.Item(target: target, unit: PushUnit(message: msg), progress: [progress])
    }

    static func configuration() -> JobConfiguration {
        var c = JobConfiguration()
        c.retryBackoff = .milliseconds(5)
        c.retryBackoffMax = .milliseconds(20)
        return c
    }

    static func lane(
        _ comet: Recorder, configuration: JobConfiguration = configuration(), present: NIOLockedValueBox<Bool> = .init(true)
    ) -> CometLane {
        CometLane(
            server: comet.serverID, pusher: comet, configuration: configuration,
            lookup: { _ in present.withLockedValue { $0 } ? comet : nil },
            metrics: JobMetrics(), logger: Logger(label: "test.lane")
        )
    }

    @Test("messages behind an in-flight call for the same room merge into one batch, in order; nothing is acknowledged before its call")
    func merges() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        let lane = Self.lane(comet)
        comet.held.withLockedValue { $0 = true }
        _ = await lane.enqueue(Self.item(.room("r"), "m0", acks.progress(0)))
        for i in 1...5 { _ = await lane.enqueue(Self.item(.room("r"), "m\(i)", acks.progress(UInt64(i)))) }
        try await Task.sleep(for: .milliseconds(30))
        #expect(acks.positions.withLockedValue { $0 }.isEmpty)
        comet.held.withLockedValue { $0 = false }
        await lane.waitUntilIdle()
        #expect(comet.calls.withLockedValue { $0.map(\.bodies) } == [["m0"], ["m1", "m2", "m3", "m4", "m5"]])
        #expect(acks.positions.withLockedValue { $0 } == [0, 1, 2, 3, 4, 5])
    }

    @Test("a backlog of pushes for different users goes to the comet in one call; each user's pushes keep their order")
    func batchesKeys() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        var configuration = Self.configuration()
        configuration.cometInFlight = 1
        let lane = Self.lane(comet, configuration: configuration)
        comet.held.withLockedValue { $0 = true }
        _ = await lane.enqueue(Self.item(.keys(["a"], operation: 1000), "a0", acks.progress(0)))
        // Queued while a0's call holds the only slot: a1 and a2 behind it, three other users ready.
        _ = await lane.enqueue([
            Self.item(.keys(["a"], operation: 1000), "a1", acks.progress(1)),
            Self.item(.keys(["b"], operation: 1000), "b0", acks.progress(2)),
            Self.item(.keys(["a"], operation: 1000), "a2", acks.progress(3)),
            Self.item(.keys(["c"], operation: 1000), "c0", acks.progress(4)),
            Self.item(.room("r"), "r0", acks.progress(5)),
            Self.item(.keys(["d"], operation: 1000), "d0", acks.progress(6)),
        ])
        try await Task.sleep(for: .milliseconds(20))
        #expect(acks.positions.withLockedValue { $0 }.isEmpty)
        comet.held.withLockedValue { $0 = false }
        await lane.waitUntilIdle()
        let calls = comet.calls.withLockedValue { $0 }
        #expect(calls.filter { $0.target == "k:a" }.flatMap(\.bodies) == ["a0", "a1", "a2"], "a's pushes arrive once each, in order")
        #expect(calls.filter { $0.target != "k:a" }.flatMap(\.bodies).sorted() == ["b0", "c0", "d0", "r0"])
        // b0 and c0 were ready one after the other: one call. The room goes alone; d0 and a's
        // merged a1+a2 (ready once a0's call ended) go together.
        #expect(comet.batchSizes.withLockedValue { $0 } == [2, 2])
        #expect(Set(acks.positions.withLockedValue { $0 }) == Set(0...6))
    }

    @Test("batches respect the byte limit")
    func byteLimit() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        var configuration = Self.configuration()
        configuration.roomBatchBytes = (Packet.headerLength + 2) * 2
        let lane = Self.lane(comet, configuration: configuration)
        comet.held.withLockedValue { $0 = true }
        for i in 0..<6 { _ = await lane.enqueue(Self.item(.room("r"), "m\(i)", acks.progress(UInt64(i)))) }
        comet.held.withLockedValue { $0 = false }
        await lane.waitUntilIdle()
        #expect(comet.calls.withLockedValue { $0.map(\.bodies.count) } == [1, 2, 2, 1])
        #expect(acks.positions.withLockedValue { $0 } == [0, 1, 2, 3, 4, 5])
    }

    @Test("a refused call is retried until accepted, keeping its order key's order; other keys are not held back")
    func retries() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        let lane = Self.lane(comet)
        comet.failing.withLockedValue { $0 = "k:a" }
        comet.failuresLeft.withLockedValue { $0 = 5 }
        _ = await lane.enqueue(Self.item(.keys(["a"], operation: 1000), "a0", acks.progress(0)))
        try await Task.sleep(for: .milliseconds(2))
        _ = await lane.enqueue(Self.item(.keys(["a"], operation: 1000), "a1", acks.progress(1)))
        _ = await lane.enqueue(Self.item(.keys(["b"], operation: 1000), "b0", acks.progress(2)))
        await lane.waitUntilIdle()
        let calls = comet.calls.withLockedValue { $0 }
        let forA = calls.filter { $0.target == "k:a" }.flatMap(\.bodies)
        #expect(forA == ["a0", "a1"], "a's pushes arrive once each, in order")
        let firstA = try #require(calls.firstIndex { $0.target == "k:a" })
        let b = try #require(calls.firstIndex { $0.target == "k:b" })
        #expect(b < firstA, "b was delivered while a's first push was still being retried")
        #expect(Set(acks.positions.withLockedValue { $0 }) == [0, 1, 2])
        #expect(comet.failuresLeft.withLockedValue { $0 } == 0, "the five refusals were retried")
    }

    @Test("a push the comet refuses for good is dropped for that comet and acknowledged, not retried forever")
    func refusedForGood() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        let lane = Self.lane(comet)
        comet.refusedBodies.withLockedValue { $0 = ["too big"] }
        _ = await lane.enqueue(Self.item(.room("r"), "too big", acks.progress(0)))
        _ = await lane.enqueue(Self.item(.room("r"), "next", acks.progress(1)))
        await lane.waitUntilIdle()
        #expect(Set(acks.positions.withLockedValue { $0 }) == [0, 1])
        #expect(comet.calls.withLockedValue { $0 }.flatMap(\.bodies).contains("next"), "the room goes on after the refused push")
    }

    @Test("a comet that left the directory completes what was queued for it")
    func retires() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        let present = NIOLockedValueBox(true)
        let lane = Self.lane(comet, present: present)
        comet.failuresLeft.withLockedValue { $0 = 1_000_000 }
        _ = await lane.enqueue(Self.item(.room("r"), "m0", acks.progress(0)))
        _ = await lane.enqueue(Self.item(.room("r"), "m1", acks.progress(1)))
        try await Task.sleep(for: .milliseconds(50))
        #expect(acks.positions.withLockedValue { $0 }.isEmpty, "not acknowledged while the comet refuses and is registered")
        present.withLockedValue { $0 = false }
        await lane.waitUntilIdle()
        #expect(Set(acks.positions.withLockedValue { $0 }) == [0, 1])
        #expect(comet.calls.withLockedValue { $0 }.isEmpty)
        #expect(
            await lane.enqueue(Self.item(.room("r"), "m2", acks.progress(2))) == false,
            "a retired lane takes nothing: the job makes a new one")
        #expect(Set(acks.positions.withLockedValue { $0 }) == [0, 1], "the refused item was not acknowledged")
    }

    @Test("calls in flight stay within comet_in_flight, one per order key")
    func window() async throws {
        let comet = Recorder("c1")
        let acks = Acks()
        var configuration = Self.configuration()
        configuration.cometInFlight = 3
        let lane = Self.lane(comet, configuration: configuration)
        comet.held.withLockedValue { $0 = true }
        for i in 0..<10 { _ = await lane.enqueue(Self.item(.keys(["u\(i % 5)"], operation: 1000), "m\(i)", acks.progress(UInt64(i)))) }
        let deadline = ContinuousClock.now + .seconds(10)
        while comet.maxConcurrent.withLockedValue({ $0.now }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(comet.maxConcurrent.withLockedValue { $0.now } == 3, "three calls in flight while the comet holds them")
        comet.held.withLockedValue { $0 = false }
        await lane.waitUntilIdle()
        #expect(comet.maxConcurrent.withLockedValue { $0.max } == 3)
        #expect(acks.positions.withLockedValue { $0 }.count == 10)
        for u in 0..<5 {
            #expect(comet.calls.withLockedValue { $0 }.filter { $0.target == "k:u\(u)" }.flatMap(\.bodies) == ["m\(u)", "m\(u + 5)"])
        }
    }

    @Test("a message for two comets is acknowledged only when both accepted it")
    func twoComets() async throws {
        let a = Recorder("a")
        let b = Recorder("b")
        let acks = Acks()
        let laneA = Self.lane(a)
        let laneB = Self.lane(b)
        b.held.withLockedValue { $0 = true }
        let progress = acks.progress(7, comets: 2)
        _ = await laneA.enqueue(Self.item(.room("r"), "m", progress))
        _ = await laneB.enqueue(Self.item(.room("r"), "m", progress))
        await laneA.waitUntilIdle()
        #expect(acks.positions.withLockedValue { $0 }.isEmpty, "comet b has not accepted yet")
        b.held.withLockedValue { $0 = false }
        await laneB.waitUntilIdle()
        #expect(acks.positions.withLockedValue { $0 } == [7])
    }
}
