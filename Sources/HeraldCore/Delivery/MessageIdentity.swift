public import HeraldProtocol

/// Which message a push is: the logic process that published it (`herald_origin`, random per
/// process) and its number there (`herald_seq`, from 1). Every message Herald's logic publishes has
/// one; it travels with the message through the queue and the job to the comets, which drop a
/// message they already delivered (a redelivery after a rebalance or a job restart, or the second
/// copy during a migration). Messages produced by something else (goim's logic) have none.
public struct MessageIdentity: Hashable, Sendable, CustomStringConvertible {
    public var origin: String
    public var seq: UInt64
    /// The message's offset in its history stream (`herald_offset`); 0 when history does not keep
    /// it. Comets show it to clients that opted into recovery.
    public var offset: UInt64
    /// The epoch of that stream when the offset was assigned (`herald_epoch`).
    public var epoch: String

    public init(origin: String, seq: UInt64, offset: UInt64 = 0, epoch: String = "") {
        self.origin = origin
        self.seq = seq
        self.offset = offset
        self.epoch = epoch
    }

    /// The identity a queue message carries, or nil when it has none.
    public init?(of message: PushMsg) {
        guard !message.heraldOrigin.isEmpty, message.heraldSeq > 0 else { return nil }
        self.init(origin: message.heraldOrigin, seq: message.heraldSeq, offset: message.heraldOffset, epoch: message.heraldEpoch)
    }

    public var description: String { "\(origin)/\(seq)" }
}
