import HeraldCore
import Logging
import Testing

@Suite("plugin registry")
struct PluginRegistryTests {
    struct NamedRing: HashRing {
        var nodes: [RingNode]
        func node(for key: String) -> String? { nodes.first?.name }
    }

    @Test("an unknown name fails and lists the registered names")
    func unknownName() throws {
        var registry = PluginRegistry()
        registry.registerRing("first") { NamedRing(nodes: $0) }
        registry.registerRing("second") { NamedRing(nodes: $0) }
        #expect(try registry.makeRing(plugin: "second", nodes: [RingNode(name: "a")]).node(for: "x") == "a")
        do {
            _ = try registry.makeRing(plugin: "nope", nodes: [])
            Issue.record("expected an error")
        } catch let error as PluginError {
            #expect(error.registered == ["first", "second"])
            #expect(error.description.contains("unknown ring plugin \"nope\""))
            #expect(error.description.contains("first, second"))
        }
        #expect(throws: PluginError.self) {
            try registry.makeQueue(
                plugin: "memory",
                context: QueueContext(name: "memory", config: ConfigTable(), logger: Logger(label: "t"), registry: registry))
        }
    }
}
