/// goim's queue payload (`goim.logic.PushMsg`), generated from proto/goim/logic/push.proto.
public typealias PushMsg = Goim_Logic_PushMsg

extension Goim_Logic_PushMsg {
    /// The partitioning key goim's logic gives this message on its queue: the first key of a
    /// push, the room of a room message, the decimal operation of a broadcast. Messages with the
    /// same partitioning key stay in order.
    public var partitionKey: String {
        switch type {
        case .push: keys.first ?? ""
        case .room: room
        case .broadcast, .UNRECOGNIZED: String(operation)
        }
    }
}
