public import HeraldCore
import NIOConcurrencyHelpers

/// The `memory` router plugin: the session directory in this process (for `herald serve`).
///
/// Mappings live as long as their connection; there is no expiry because the comet that owns them
/// shares the process and removes them on disconnect.
public final class MemoryRouter: LocalSessionRouter {
    public let name: String

    private struct State {
        var byKey: [String: SessionMapping] = [:]
        var byMid: [Int64: [SessionMapping]] = [:]  // few connections per user: a small array beats a dictionary
        var online: [CometID: ServerOnline] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init(name: String = "memory") {
        self.name = name
    }

    public static func register(in registry: inout PluginRegistry) {
        registry.registerRouter("memory") { context in MemoryRouter(name: context.name) }
    }

    public func addMapping(_ mapping: SessionMapping) async throws { addMappingNow(mapping) }

    public func addMappingNow(_ mapping: SessionMapping) {
        state.withLockedValue { s in
            s.byKey[mapping.key] = mapping
            if mapping.mid > 0 {
                s.byMid[mapping.mid, default: []].removeAll { $0.key == mapping.key }
                s.byMid[mapping.mid, default: []].append(mapping)
            }
        }
    }

    public func expireMapping(mid: Int64, key: String, server: CometID) async throws -> Bool {
        state.withLockedValue { $0.byKey[key] != nil }
    }

    public func deleteMapping(mid: Int64, key: String, server: CometID) async throws -> Bool {
        deleteMappingNow(mid: mid, key: key, server: server)
    }

    public func deleteMappingNow(mid: Int64, key: String, server: CometID) -> Bool {
        state.withLockedValue { s in
            let existed = s.byKey.removeValue(forKey: key) != nil
            if mid > 0, var list = s.byMid[mid] {
                list.removeAll { $0.key == key }
                s.byMid[mid] = list.isEmpty ? nil : list
            }
            return existed
        }
    }

    public func serversByKeys(_ keys: [String]) async throws -> [String: CometID] { serversByKeysNow(keys) }

    public func serversByKeysNow(_ keys: [String]) -> [String: CometID] {
        state.withLockedValue { s in
            var out: [String: CometID] = [:]
            for key in keys { if let m = s.byKey[key] { out[key] = m.server } }
            return out
        }
    }

    public func sessionsByMids(_ mids: [Int64]) async throws -> [Int64: [SessionMapping]] { sessionsByMidsNow(mids) }

    public func sessionsByMidsNow(_ mids: [Int64]) -> [Int64: [SessionMapping]] {
        state.withLockedValue { s in
            var out: [Int64: [SessionMapping]] = [:]
            for mid in mids {
                if let list = s.byMid[mid], !list.isEmpty { out[mid] = list }
            }
            return out
        }
    }

    public func setServerOnline(_ online: ServerOnline) async throws {
        state.withLockedValue { $0.online[online.server] = online }
    }

    public func serverOnline(server: CometID) async throws -> ServerOnline? {
        state.withLockedValue { $0.online[server] }
    }

    public func deleteServerOnline(server: CometID) async throws {
        state.withLockedValue { $0.online[server] = nil }
    }

    public func shutdown() async {}
}
