import Foundation

/// Where a client stands in each history stream: the epoch and the highest offset seen. Filled by
/// the op-8 reply of a recovering connection and by every stored push; sent back as `"recover"` in
/// the next op-7 body, so the server replays only what was missed.
struct StreamPositions: Sendable, Hashable {
    struct Position: Codable, Sendable, Hashable {
        var epoch: String
        var offset: UInt64
    }

    private(set) var streams: [HeraldStream: Position] = [:]

    /// Reads an op-8 body. Returns the server's `recovered`, or nil for an empty or non-JSON body
    /// (goim's reply, or a server without history).
    mutating func applyAuthReply(_ body: [UInt8]) -> Bool? {
        struct Reply: Decodable {
            var recovered: Bool?
            var streams: [String: Position]?
        }
        guard !body.isEmpty, let reply = try? JSONDecoder().decode(Reply.self, from: Data(body)) else { return nil }
        for (name, position) in reply.streams ?? [:] {
            guard let stream = HeraldStream(rawValue: name) else { continue }
            streams[stream] = position
        }
        return reply.recovered
    }

    /// Records a stored push: `sequence` holds the low 32 bits of its offset. Returns the whole
    /// offset, taking the high bits from the position known (and one more when the low bits wrapped).
    mutating func observe(_ stream: HeraldStream, sequence: Int32) -> UInt64 {
        let low = UInt64(UInt32(bitPattern: sequence))
        guard var position = streams[stream] else { return low }
        let known = position.offset
        var offset = (known & ~0xFFFF_FFFF) | low
        // Far below the known position in 32-bit terms: the low bits wrapped past 2^32 upwards;
        // far above it: a message from before the wrap (a replayed or late one).
        if offset + (1 << 31) < known {
            offset += 1 << 32
        } else if offset > known + (1 << 31), offset >= 1 << 32 {
            offset -= 1 << 32
        }
        if offset > known {
            position.offset = offset
            streams[stream] = position
        }
        return offset
    }

    /// A room change: the room position names another room's stream.
    mutating func forgetRoom() {
        streams[.room] = nil
    }

    /// The `"recover"` value of the next op-7 body: `true` when no position is known yet.
    var recoverField: RecoverField {
        streams.isEmpty ? .fresh : .positions(Dictionary(uniqueKeysWithValues: streams.map { ($0.key.rawValue, $0.value) }))
    }

    enum RecoverField: Encodable, Sendable {
        case fresh
        case positions([String: Position])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .fresh: try container.encode(true)
            case .positions(let p): try container.encode(p)
            }
        }
    }
}
