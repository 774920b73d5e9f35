import HeraldProtocol
import NIOCore
import NIOEmbedded

@testable import HeraldTransportWebSocket

/// libFuzzer's entry point: every input is fed to each parser of untrusted bytes. A crash, a trap
/// or a sanitizer report is a finding; thrown errors are the expected answer to bad input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))

    // The packet decoder, as a connection reads: packets one after another until bytes run out.
    var buffer = ByteBuffer(bytes: bytes)
    while let packet = try? PacketDecoder.readPacket(from: &buffer, maxBodySize: 4096) {
        _ = packet.operation
    }
    // A WebSocket message carries exactly one packet, which must fill it.
    var message = ByteBuffer(bytes: bytes)
    _ = try? message.readWholePacket(maxBodySize: 4096)

    // The WebSocket frame decoder, as a connection's bytes arrive after the upgrade: frames,
    // masks, control frames, fragments, each message read as one packet.
    // The decoder answers pings and closes itself: take its replies out of the test channel, or
    // they stay in it (the leak checker would report them).
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketPacketDecoder(maxBodySize: 4096, maxFragments: 16)))
    _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
    while (try? channel.readInbound(as: Packet.self)) != nil {}
    while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
    _ = try? channel.finish(acceptAlreadyClosed: true)

    // The op-7 auth body.
    _ = try? AuthToken.parse(bytes)

    // A queue record (from a broker anyone may produce to).
    _ = try? PushMsg(serializedBytes: bytes)
    return 0
}

/// libFuzzer's driver, linked in by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's entry point under this name; hand control to libFuzzer's driver.
@_cdecl("HeraldFuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
