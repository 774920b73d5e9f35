/// The sequence numbers of one origin that a comet has delivered, in constant memory: the highest
/// number seen and a bitmap of the `capacity` numbers below it. A number above the mark is new; one
/// inside the window is new unless its bit is set; one below the window cannot be told apart and is
/// reported as ``Outcome/tooOld`` (the comet delivers it: losing a message is worse than repeating one).
struct SequenceWindow {
    enum Outcome: Equatable {
        case new
        case duplicate
        case tooOld
    }

    /// The largest step up from the highest number that the window follows.
    static let maxLeap: UInt64 = 1 << 32

    /// Numbers remembered below the highest (a multiple of 64).
    let capacity: Int
    private var words: [UInt64]
    private(set) var highest: UInt64 = 0

    init(capacity: Int) {
        let words = max(1, (capacity + 63) / 64)
        self.capacity = words * 64
        self.words = Array(repeating: 0, count: words)
    }

    /// Records `seq` (from 1) and says whether it was new.
    mutating func insert(_ seq: UInt64) -> Outcome {
        let window = UInt64(capacity)
        // A logic numbers its messages from 1, one by one: a leap of billions is not a real number
        // (a forged or corrupt identity). It is delivered without moving the window, which a single
        // such number could otherwise push past everything real.
        if highest > 0, seq > highest, seq - highest > Self.maxLeap { return .tooOld }
        if seq > highest {
            let advance = seq - highest
            if advance >= window {
                for i in words.indices { words[i] = 0 }
            } else if advance > 1 {
                clearRange(from: highest + 1, count: Int(advance - 1))
            }
            highest = seq
            set(seq)
            return .new
        }
        if highest - seq >= window { return .tooOld }
        if isSet(seq) { return .duplicate }
        set(seq)
        return .new
    }

    private func position(_ seq: UInt64) -> (Int, UInt64) {
        let bit = Int(seq % UInt64(capacity))
        return (bit >> 6, 1 << UInt64(bit & 63))
    }

    private func isSet(_ seq: UInt64) -> Bool {
        let (w, mask) = position(seq)
        return words[w] & mask != 0
    }

    private mutating func set(_ seq: UInt64) {
        let (w, mask) = position(seq)
        words[w] |= mask
    }

    /// Clears `count` (< capacity) consecutive numbers from `first`, a word at a time.
    private mutating func clearRange(from first: UInt64, count: Int) {
        var bit = Int(first % UInt64(capacity))
        var left = count
        while left > 0 {
            let offset = bit & 63
            let n = min(left, 64 - offset)
            let mask: UInt64 = n == 64 ? ~0 : ((1 << UInt64(n)) - 1) << UInt64(offset)
            words[bit >> 6] &= ~mask
            left -= n
            bit = (bit + n) % capacity
        }
    }
}
