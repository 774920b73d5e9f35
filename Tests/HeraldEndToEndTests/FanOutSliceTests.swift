import Foundation
import HeraldProtocol
import HeraldTesting
import Testing

/// Room fan-out runs in slices of event-loop tasks (`LoopShard.sliceSize`), so the loops serve the
/// API and client reads in between. These check that slicing loses, doubles and reorders nothing,
/// and that clients leaving in the middle of a fan-out are skipped safely.
@Suite("end to end: room fan-out in slices")
struct FanOutSliceTests {
    @Test("600 clients in one room (several slices per loop) get all 30 pushes once each and in order, while 100 others leave mid-stream")
    func slicedRoomFanOut() async throws {
        // A generous handshake timeout: 700 connections are made one after another on a machine
        // that also runs the rest of the suite.
        try await withGateway(gatewayTOML(handshake: "10s")) { g in
            var stay: [any GoimClient] = []
            var leave: [any GoimClient] = []
            for i in 0..<700 {
                let c = try await g.client(
                    i % 2 == 0 ? .tcp : .websocket, AuthToken(mid: Int64(5_000 + i), roomID: "live://slices", accepts: [1000]))
                if i % 7 == 3 { leave.append(c) } else { stay.append(c) }
            }
            let leaving = leave
            let leaver = Task {
                for c in leaving {
                    await c.close()
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
            for n in 0..<30 {
                #expect(try await g.http.post("/goim/push/room?operation=1000&type=live&room=slices", body: "m\(n)").code == 0)
            }
            await leaver.value
            for c in stay {
                var got: [String] = []
                while got.count < 30, let p = await c.inbox.next(timeout: .seconds(10)) {
                    if p.operation.rawValue == 1000 { got.append(String(buffer: p.body)) }
                }
                #expect(got == (0..<30).map { "m\($0)" })
            }
            for c in stay.prefix(20) {
                #expect(
                    await c.inbox.next(timeout: .milliseconds(50)).map { $0.operation.rawValue == 1000 } != true, "no copy after the last")
            }
            #expect(try await g.http.get("/goim/online/total").code == 0, "the server is alive")
            for c in stay { await c.close() }
        }
    }
}
