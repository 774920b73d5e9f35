import Foundation
public import HeraldCore
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

    /// goim's op-9 envelope around a push unit's packets: the only place the envelope exists.
    public init(_ unit: PushUnit) {
        self.init()
        ver = 1
        op = Operation.raw.rawValue
        body = Data(unit.packets.readableBytesView)
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

extension PushUnit {
    /// The identities in their gRPC form (one per packet, empty origins for none), or none at all.
    var rpcIdentities: [Goim_Comet_HeraldIdentity] {
        identities.map { identity in
            var id = Goim_Comet_HeraldIdentity()
            if let identity {
                id.origin = identity.origin
                id.seq = identity.seq
                id.offset = identity.offset
                id.epoch = identity.epoch
            }
            return id
        }
    }
}
