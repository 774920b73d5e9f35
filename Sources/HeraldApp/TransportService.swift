import HeraldComet
import HeraldCore
import Logging
import NIOCore
import ServiceLifecycle

/// Starts a comet's transports; on graceful shutdown stops accepting first, then closes every
/// connection over the drain window, then shuts the transports down.
struct TransportService: Service {
    let comet: Comet
    let entries: [HeraldConfiguration.TransportEntry]
    let transports: [any Transport]
    let drainWindow: Duration
    /// Called with the bound addresses per transport instance once every listener is up.
    let started: @Sendable ([String: [SocketAddress]]) async throws -> Void

    func run() async throws {
        var bound: [String: [SocketAddress]] = [:]
        for (entry, transport) in zip(entries, transports) {
            do {
                bound[entry.name] = try await transport.start(acceptor: comet)
            } catch {
                // The process cannot serve this transport: the listeners already up close, and the
                // error (a port in use, say) stops the process, naming the transport.
                for transport in transports { await transport.shutdown() }
                throw TransportStartFailed(transport: entry.name, underlying: error)
            }
        }
        try await started(bound)
        try? await gracefulShutdown()
        for transport in transports { await transport.stopAccepting() }
        await comet.closeAll(over: drainWindow)
        for transport in transports { await transport.shutdown() }
    }

    /// The configured transport instances, made by their plugins.
    static func makeTransports(
        _ configuration: HeraldConfiguration,
        registry: PluginRegistry,
        eventLoopGroup: any EventLoopGroup,
        security: (any ChannelSecurity)?,
        logger: Logger
    ) throws -> [any Transport] {
        try configuration.transports.map { entry in
            try registry.makeTransport(
                plugin: entry.plugin,
                context: TransportContext(
                    name: entry.name,
                    config: entry.table,
                    eventLoopGroup: eventLoopGroup,
                    limits: configuration.comet.limits,
                    logger: logger,
                    security: security
                )
            )
        }
    }
}

/// A transport could not start listening (its port in use, an address not on this machine).
struct TransportStartFailed: Error, CustomStringConvertible {
    var transport: String
    var underlying: any Error
    var description: String { "transport \(transport) could not start: \(underlying)" }
}
