import HeraldCore
import Testing

@testable import HeraldComet

@Suite("HistoryCursor")
struct HistoryCursorTests {
    @Test("a packet that arrives after a higher one is delivered; a copy is not")
    func lateButNew() {
        let cursor = HistoryCursor(maxHeldBytes: 1024)
        cursor.advance(.room, offset: 6, epoch: "e")
        #expect(cursor.admits(.room, offset: 5, epoch: "e"), "5 was never delivered")
        cursor.advance(.room, offset: 5, epoch: "e")
        #expect(!cursor.admits(.room, offset: 5, epoch: "e"))
        #expect(!cursor.admits(.room, offset: 6, epoch: "e"))
        #expect(cursor.admits(.room, offset: 7, epoch: "e"))
        #expect(cursor.admits(.room, offset: 4, epoch: "e"), "4 is in the window and was not delivered")
    }

    @Test("after a replay everything up to its last offset counts as delivered; older than the window is dropped")
    func afterReplay() {
        let cursor = HistoryCursor(maxHeldBytes: 1024)
        cursor.set(.user, offset: 100, epoch: "e")
        #expect(!cursor.admits(.user, offset: 100, epoch: "e"))
        #expect(!cursor.admits(.user, offset: 37, epoch: "e"))
        #expect(!cursor.admits(.user, offset: 1, epoch: "e"), "older than the window")
        #expect(cursor.admits(.user, offset: 101, epoch: "e"))
        #expect(cursor.admits(.room, offset: 1, epoch: "e"), "streams are apart")
    }

    @Test("another epoch is new: the stream's offsets started over")
    func newEpoch() {
        let cursor = HistoryCursor(maxHeldBytes: 1024)
        cursor.set(.room, offset: 500, epoch: "old")
        #expect(cursor.admits(.room, offset: 1, epoch: "new"))
        cursor.advance(.room, offset: 1, epoch: "new")
        #expect(!cursor.admits(.room, offset: 1, epoch: "new"))
        #expect(cursor.admits(.room, offset: 2, epoch: "new"))
    }

    @Test("a jump past the window forgets what was below it")
    func jump() {
        let cursor = HistoryCursor(maxHeldBytes: 1024)
        cursor.advance(.broadcast, offset: 1, epoch: "e")
        cursor.advance(.broadcast, offset: 1 + HistoryCursor.windowSize, epoch: "e")
        #expect(!cursor.admits(.broadcast, offset: 1, epoch: "e"))
        #expect(cursor.admits(.broadcast, offset: 2, epoch: "e"))
    }
}
