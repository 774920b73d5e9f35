/// goim's queue payload (`goim.logic.PushMsg`), generated from proto/goim/logic/push.proto.
public typealias PushMsg = Goim_Logic_PushMsg
