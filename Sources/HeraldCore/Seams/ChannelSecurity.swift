public import NIOCore

/// Transport security for a new server-side connection: adds the TLS handler at the front of
/// the pipeline. Provided by the application (`[tls]`), used by every listener configured with
/// `tls = true`, so a transport plugin secures its connections without depending on a TLS library.
public protocol ChannelSecurity: Sendable {
    /// Adds the server-side TLS handler first in `channel`'s pipeline, named
    /// ``ChannelSecurityHandler/name``. Runs on the channel's event loop.
    func secure(_ channel: any Channel) throws
}

public enum ChannelSecurityHandler {
    /// The pipeline name of the TLS handler.
    public static let name = "herald.tls"
}
