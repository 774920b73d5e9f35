import Foundation
import HeraldCore
import HeraldProtocol
import HeraldTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The cut-off-and-recover scenario, on one gateway or across comets: a client that opted into
/// recovery is in room `live://<room>` while 1,000 pushes go to it at one every 4 ms; after 200 its
/// network goes away (``GoimClient/reset()``); 2 s later it connects again through
/// `connect(1)` naming its position, and must end with every message once, in order,
/// `recovered: true`.
enum CutOffRecovery {
    static func run(
        api: HTTPTestClient, room: String, mid: Int64, label: String,
        connect: (_ attempt: Int) async throws -> any GoimClient
    ) async throws {
        let first = try await connect(0)
        let hello = try #require(try await recoverAuth(first, mid: mid, room: "live://\(room)", recover: "true"))
        #expect(hello.recovered)
        let epoch = try #require(hello.streams["room"]?.epoch)
        // Until the job knows the client's comet (split deployments), a push may wait for it: the
        // stream starts once one arrived. Op 1001: the counts below are of op 1000.
        var ready = false
        for _ in 0..<40 where !ready {
            _ = try await api.post("/goim/push/room?operation=1001&type=live&room=\(room)", body: "warm")
            ready = await first.inbox.next(timeout: .milliseconds(250)) != nil
        }
        #expect(ready, "\(label): a room push reached the client")
        while await first.inbox.next(timeout: .milliseconds(200)) != nil {}

        let total = 1000
        let accepted = NIOLockedValueBox(0)
        let publisher = Task {
            let clock = ContinuousClock()
            let start = clock.now
            for i in 0..<total {
                try? await clock.sleep(until: start + .milliseconds(4 * i))
                if (try? await api.post("/goim/push/room?operation=1000&type=live&room=\(room)", body: "m\(i)"))?.code == 0 {
                    accepted.withLockedValue { $0 += 1 }
                }
            }
        }

        var seen: [String] = []
        var lastOffset: UInt64 = 0
        while seen.count < 200, let p = await first.inbox.next(timeout: .seconds(10)) {
            guard p.operation.rawValue == 1000 else { continue }
            #expect(p.version == HistoryStream.Kind.room.rawValue, "a stored room push names its stream in ver")
            lastOffset = UInt64(UInt32(bitPattern: p.sequence))
            seen.append(p.text)
        }
        #expect(seen.count == 200)
        await first.reset()
        try await Task.sleep(for: .seconds(2))

        let second = try await connect(1)
        let since = #"{"room":{"offset":\#(lastOffset),"epoch":"\#(epoch)"}}"#
        let back = try #require(try await recoverAuth(second, mid: mid, room: "live://\(room)", recover: since))
        #expect(back.recovered, "\(label): recovered: true after a 2 s absence")
        await publisher.value
        #expect(accepted.withLockedValue { $0 } == total, "every push was accepted")

        var rest: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while seen.count + rest.count < total, ContinuousClock.now < deadline {
            guard let p = await second.inbox.next(timeout: deadline - ContinuousClock.now) else { break }
            if p.operation.rawValue == 1000 { rest.append(p.text) }
        }
        while let p = await second.inbox.next(timeout: .milliseconds(500)) {
            if p.operation.rawValue == 1000 { rest.append(p.text) }
        }
        let tally = StreamTally(received: seen + rest, expected: (0..<total).map { "m\($0)" })
        #expect(tally.missing == 0 && tally.duplicates == 0 && tally.inOrder, "\(label): every message exactly once, in order: \(tally)")
        await second.close()
    }
}
