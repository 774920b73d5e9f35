import Foundation
import HeraldCore
import HeraldProtocol
import HeraldTesting
import NIOCore
import Testing

@Suite("end to end: pushes over tcp and websocket", .serialized)
struct PushDeliveryTests {
    @Test("N clients of each transport receive pushes by key, by user, by room and to all")
    func allPushKinds() async throws {
        try await withGateway { gw in
            let n = 6
            var clients: [(TransportKind, Int, any GoimClient)] = []
            for t in TransportKind.allCases {
                for i in 0..<n {
                    let mid = Int64([TransportKind.tcp: 100, .websocket: 200, .longpoll: 300, .sse: 400][t]! + i)
                    let token = AuthToken(mid: mid, key: "\(t.rawValue)-\(i)", roomID: "live://1", platform: "web", accepts: [1000])
                    clients.append((t, i, try await gw.client(t, token)))
                }
            }
            for (_, _, c) in clients {
                #expect(try await c.heartbeat() != nil)
            }

            // By key: each client gets the message addressed to its key only.
            for (t, i, _) in clients {
                let r = try await gw.http.post("/goim/push/keys?operation=1000&keys=\(t.rawValue)-\(i)", body: "key \(t.rawValue)-\(i)")
                #expect(r.code == 0)
            }
            for (t, i, c) in clients {
                let p = await c.inbox.next()
                #expect(p?.operation == Operation(1000))
                #expect(p?.text == "key \(t.rawValue)-\(i)")
            }

            // By user id, several in one call (repeated and comma-separated parameters).
            let r = try await gw.http.post("/goim/push/mids?operation=1000&mids=100,101&mids=200&mids=999", body: "by mid")
            #expect(r.code == 0)
            #expect(r.data == #"{"offline_mids":[999]}"#)
            for (t, i, c) in clients where (t == .tcp && i < 2) || (t == .websocket && i == 0) {
                #expect(await c.inbox.next()?.text == "by mid")
            }

            // By room and to all.
            #expect(try await gw.http.post("/goim/push/room?operation=1000&type=live&room=1", body: "room").code == 0)
            #expect(try await gw.http.post("/goim/push/all?operation=1000", body: "all").code == 0)
            for (_, _, c) in clients {
                #expect(await c.inbox.next()?.text == "room")
                #expect(await c.inbox.next()?.text == "all")
            }
            for (t, _, c) in clients {
                #expect(c.inbox.pending == 0)
                if t == .websocket { #expect(c.envelopes >= 3, "websocket pushes arrive in op-9 envelopes") }
            }
            for (_, _, c) in clients { await c.close() }
        }
    }

    @Test("one batch call to the comet reaches every user of every transport once; the same batch again is dropped as delivered")
    func batchCall() async throws {
        try await withGateway { gw in
            var clients: [(key: String, client: any GoimClient)] = []
            for (n, t) in TransportKind.allCases.enumerated() {
                for i in 0..<3 {
                    let key = "batch-\(t.rawValue)-\(i)"
                    let token = AuthToken(mid: Int64(500 + n * 10 + i), key: key, platform: "web", accepts: [1000])
                    clients.append((key, try await gw.client(t, token)))
                }
            }
            // What the job sends a comet when a backlog of pushes for many users was consumed at once.
            var batch: [KeyPush] = []
            for (seq, entry) in clients.enumerated() {
                var msg = PushMsg()
                msg.operation = 1000
                msg.msg = Data("for \(entry.key)".utf8)
                msg.heraldOrigin = "batch-test"
                msg.heraldSeq = UInt64(seq + 1)
                batch.append(KeyPush(keys: [entry.key], operation: 1000, unit: PushUnit(message: msg)))
            }
            // One push for two users, and one for an operation nobody accepts.
            var both = PushMsg()
            both.operation = 1000
            both.msg = Data("for two".utf8)
            both.heraldOrigin = "batch-test"
            both.heraldSeq = 100
            batch.append(KeyPush(keys: [clients[0].key, clients[4].key], operation: 1000, unit: PushUnit(message: both)))
            var filtered = both
            filtered.operation = 2000
            filtered.heraldSeq = 101
            batch.append(KeyPush(keys: [clients[1].key], operation: 2000, unit: PushUnit(message: filtered)))

            try await gw.server.comet.push(batch)
            for (index, entry) in clients.enumerated() {
                #expect(await entry.client.inbox.next()?.text == "for \(entry.key)")
                if index == 0 || index == 4 { #expect(await entry.client.inbox.next()?.text == "for two") }
            }
            // A retried batch (the job's call failed after the comet had delivered): nothing twice.
            try await gw.server.comet.push(batch)
            for (_, client) in clients { #expect(await client.inbox.next(timeout: .milliseconds(300)) == nil) }
            for (_, client) in clients { await client.close() }
        }
    }

    @Test("a user with two connections gets the push on both")
    func twoDevices() async throws {
        try await withGateway { gw in
            let phone = try await gw.client(.tcp, AuthToken(mid: 42, platform: "ios", accepts: [1000]))
            let browser = try await gw.client(.websocket, AuthToken(mid: 42, platform: "web", accepts: [1000]))
            let r = try await gw.http.post("/goim/push/mids?operation=1000&mids=42", body: "hello 42")
            #expect(r.code == 0 && r.data == #"{"offline_mids":[]}"#)
            #expect(await phone.inbox.next()?.text == "hello 42")
            #expect(await browser.inbox.next()?.text == "hello 42")

            // Limited to one platform (beyond goim).
            _ = try await gw.http.post("/goim/push/mids?operation=1000&mids=42&platform=web", body: "web only")
            #expect(await browser.inbox.next()?.text == "web only")
            #expect(await phone.inbox.next(timeout: .milliseconds(300)) == nil)
            await phone.close()
            await browser.close()
        }
    }

    @Test("accepts, sub and unsub filter key pushes and broadcasts; room pushes are not filtered")
    func opFiltering() async throws {
        try await withGateway { gw in
            for t in TransportKind.allCases {
                let c = try await gw.client(t, AuthToken(mid: 7, key: "f-\(t)", roomID: "chat://9", accepts: [1000]))
                _ = try await gw.http.post("/goim/push/all?operation=1001", body: "not accepted")
                _ = try await gw.http.post("/goim/push/keys?operation=1001&keys=f-\(t)", body: "not accepted")
                _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=f-\(t)", body: "marker")
                #expect(await c.inbox.next()?.text == "marker")

                let sub = try await c.request(.sub, "1001,1002")
                #expect(sub?.operation == .subReply && sub?.text == "1001,1002")
                _ = try await gw.http.post("/goim/push/all?operation=1001", body: "now accepted")
                #expect(await c.inbox.next()?.text == "now accepted")

                let unsub = try await c.request(.unsub, "1000")
                #expect(unsub?.operation == .unsubReply)
                _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=f-\(t)", body: "unsubscribed")
                _ = try await gw.http.post("/goim/push/room?operation=5555&type=chat&room=9", body: "room ignores ops")
                #expect(await c.inbox.next()?.text == "room ignores ops")
                await c.close()
                #expect(await c.inbox.waitForClose())
            }
        }
    }

    @Test("change room moves the connection; heartbeat reports the room count")
    func changeRoom() async throws {
        try await withGateway { gw in
            let a = try await gw.client(.tcp, AuthToken(mid: 1, roomID: "live://A", accepts: []))
            let b = try await gw.client(.websocket, AuthToken(mid: 2, roomID: "live://A", accepts: []))
            // Room counts are aggregated every online_report_interval, so poll.
            #expect(await eventually { (try? await a.heartbeat()) == 2 })
            let reply = try await b.request(.changeRoom, "live://B")
            #expect(reply?.operation == .changeRoomReply && reply?.text == "live://B")
            #expect(await eventually { (try? await a.heartbeat()) == 1 })
            _ = try await gw.http.post("/goim/push/room?operation=1000&type=live&room=A", body: "to A")
            _ = try await gw.http.post("/goim/push/room?operation=1000&type=live&room=B", body: "to B")
            #expect(await a.inbox.next()?.text == "to A")
            #expect(await b.inbox.next()?.text == "to B")
            #expect(await a.inbox.next(timeout: .milliseconds(200)) == nil)
            #expect(await b.inbox.next(timeout: .milliseconds(200)) == nil)

            // Logic aggregates the counts the comet reports.
            let ok = await eventually {
                let r = try? await gw.http.get("/goim/online/room?type=live&rooms=A,B,C")
                return r?.data == #"{"A":1,"B":1,"C":0}"#
            }
            #expect(ok)
            let top = try await gw.http.get("/goim/online/top?type=live&limit=1")
            #expect(top.code == 0 && top.data?.contains("\"count\":1") == true)
            await a.close()
            await b.close()
        }
    }

    @Test("a second connection with the same key replaces the first and keeps the mapping")
    func sameKeyReplacement() async throws {
        try await withGateway { gw in
            for t in TransportKind.allCases {
                let first = try await gw.client(t, AuthToken(mid: 5, key: "dup-\(t)", accepts: [1000]))
                let second = try await gw.client(t, AuthToken(mid: 5, key: "dup-\(t)", accepts: [1000]))
                #expect(await first.inbox.waitForClose(), "the older connection is closed")
                try await Task.sleep(for: .milliseconds(50))
                _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=dup-\(t)", body: "to the new one")
                #expect(await second.inbox.next()?.text == "to the new one")
                await second.close()
            }
            #expect(
                await eventually { gw.closes["replaced_by_same_key"] == TransportKind.allCases.count },
                "close reason replaced_by_same_key counted")
        }
    }

    @Test("an empty key gets a server-assigned UUID key")
    func assignedKey() async throws {
        try await withGateway { gw in
            let c = try await gw.client(.tcp, AuthToken(mid: 77, accepts: [1000]))
            let sessions = try await gw.server.router.sessionsByMids([77])
            let key = try #require(sessions[77]?.first?.key)
            #expect(key.count == 36)
            _ = try await gw.http.post("/goim/push/keys?operation=1000&keys=\(key)", body: "by uuid")
            #expect(await c.inbox.next()?.text == "by uuid")
            await c.close()
        }
    }
}
