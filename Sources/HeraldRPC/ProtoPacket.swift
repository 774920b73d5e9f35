import Foundation
public import HeraldProtocol
import NIOCore

extension Goim_Protocol_Proto {
    /// The gRPC form of a goim packet.
    public init(_ packet: Packet) {
        self.init()
        ver = Int32(packet.version)
        op = packet.operation.rawValue
        seq = packet.sequence
        body = Data(packet.body.readableBytesView)
    }
}

extension Packet {
    /// A goim packet from its gRPC form.
    public init(_ proto: Goim_Protocol_Proto) {
        self.init(
            version: Int16(truncatingIfNeeded: proto.ver),
            operation: Operation(proto.op),
            sequence: proto.seq,
            body: ByteBuffer(bytes: proto.body)
        )
    }
}
