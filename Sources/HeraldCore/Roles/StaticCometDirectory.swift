/// A fixed set of comets (the all-in-one process has exactly one).
public struct StaticCometDirectory: CometDirectory {
    private let pushers: [String: any CometPusher]

    public init(_ pushers: [any CometPusher]) {
        var map: [String: any CometPusher] = [:]
        for p in pushers { map[p.serverID] = p }
        self.pushers = map
    }

    public func comets() async -> [String: any CometPusher] { pushers }
}
