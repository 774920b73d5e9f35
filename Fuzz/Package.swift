// swift-tools-version:6.0
// libFuzzer targets for Herald's parsers of untrusted input: the packet decoder, the WebSocket
// frame decoder, the auth token and the queue's PushMsg. A separate package so the main build stays free of sanitizer flags.
// Run: Fuzz/run.sh [seconds]
import Foundation
import PackageDescription

/// A path dependency is named after its directory, which differs between clones.
let herald = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "HeraldFuzz",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "HeraldFuzz",
            dependencies: [
                .product(name: "HeraldProtocol", package: herald),
                .product(name: "HeraldTransportWebSocket", package: herald),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
