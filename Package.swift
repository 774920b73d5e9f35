// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v14), .iOS(.v16)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .library(name: "HeraldCore", targets: ["HeraldCore"]),
        .library(name: "HeraldProtocol", targets: ["HeraldProtocol"]),
        .library(name: "HeraldTesting", targets: ["HeraldTesting"]),
        .library(name: "HeraldClient", targets: ["HeraldClient"]),
        .library(name: "HeraldComet", targets: ["HeraldComet"]),
        .library(name: "HeraldLogic", targets: ["HeraldLogic"]),
        .library(name: "HeraldJob", targets: ["HeraldJob"]),
        .library(name: "HeraldRPC", targets: ["HeraldRPC"]),
        .library(name: "HeraldTransportWebSocket", targets: ["HeraldTransportWebSocket"]),
        .library(
            name: "HeraldPlugins",
            targets: [
                "HeraldTransportTCP", "HeraldTransportWebSocket", "HeraldTransportLongPoll", "HeraldTransportSSE",
                "HeraldQueueMemory", "HeraldQueueKafka", "HeraldQueueZeroMQ", "HeraldQueueMigration", "HeraldRouterMemory", "HeraldRouterRedis",
                "HeraldHistoryMemory", "HeraldHistoryRedis", "HeraldPluginSupport",
            ]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [
        // MARK: - Core and roles
        .target(
            name: "HeraldProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldCore",
            dependencies: [
                "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldRing",
            dependencies: [
                "HeraldCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldComet",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldLogic",
            dependencies: [
                "HeraldCore", "HeraldProtocol", "HeraldTLS",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldJob",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Plugins
        // Helpers the plugins share (listener set-up, delivery buffers, poll threads): not part of
        // the seams, so the core stays free of NIOPosix.
        .target(
            name: "HeraldPluginSupport",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Plugins/Support",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTransportTCP",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Plugins/Transports/TCP",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTransportWebSocket",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/Transports/WebSocket",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldHTTPSupport",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol", "HeraldTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Plugins/Transports/HTTPSupport",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTransportLongPoll",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol", "HeraldHTTPSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/Transports/LongPoll",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTransportSSE",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol", "HeraldHTTPSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/Transports/SSE",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldQueueMemory",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Plugins/Queues/Memory",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CRdKafka",
            path: "Plugins/Queues/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "HeraldQueueKafka",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol", "CRdKafka",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            path: "Plugins/Queues/Kafka",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CZeroMQ",
            path: "Plugins/Queues/CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(
            name: "HeraldQueueZeroMQ",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol", "CZeroMQ",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            path: "Plugins/Queues/ZeroMQ",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldQueueMigration",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/Queues/Migration",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CHiredis",
            path: "Plugins/Redis/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "HeraldRedis",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "CHiredis",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Plugins/Redis/Connection",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldHistoryRedis",
            dependencies: [
                "HeraldCore", "HeraldRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/History/Redis",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldRouterRedis",
            dependencies: [
                "HeraldCore", "HeraldRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Plugins/Routers/Redis",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldHistoryMemory",
            dependencies: [
                "HeraldCore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Plugins/History/Memory",
            swiftSettings: strict
        ),
        .target(
            name: "HeraldRouterMemory",
            dependencies: [
                "HeraldCore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Plugins/Routers/Memory",
            swiftSettings: strict
        ),

        // MARK: - Executable (composition root)
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore",
                "HeraldQueueKafka", "HeraldQueueZeroMQ",
                "HeraldApp", "HeraldBench", "HeraldClient", "HeraldRing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldRPC",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldTLS",
            dependencies: [
                "HeraldCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeraldApp",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldRing", "HeraldProtocol", "HeraldComet", "HeraldLogic", "HeraldJob", "HeraldTLS", "HeraldRPC",
                "HeraldTransportTCP", "HeraldTransportWebSocket", "HeraldTransportLongPoll", "HeraldTransportSSE",
                "HeraldQueueMemory", "HeraldQueueKafka", "HeraldQueueZeroMQ", "HeraldQueueMigration", "HeraldRouterMemory", "HeraldRouterRedis",
                "HeraldHistoryMemory", "HeraldHistoryRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        .target(
            name: "HeraldBench",
            dependencies: [
                "HeraldProtocol", "HeraldClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Client library
        // What an app links to talk to Herald: no server module, nothing an iOS app would not take.
        .target(
            name: "HeraldClient",
            dependencies: [
                "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: - Test support and tests
        .target(
            name: "HeraldTesting",
            dependencies: [
                "HeraldCore", "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HeraldProtocolTests",
            dependencies: [
                "HeraldProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HeraldClientTests",
            dependencies: ["HeraldClient", "HeraldProtocol"]
        ),
        .testTarget(
            name: "HeraldCoreTests",
            dependencies: [
                "HeraldCore", "HeraldPluginSupport", "HeraldComet", "HeraldJob", "HeraldProtocol", "HeraldRing", "HeraldRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HeraldQueueTests",
            dependencies: [
                "HeraldCore", "HeraldApp", "HeraldPluginSupport", "HeraldProtocol", "HeraldTesting", "HeraldQueueMemory", "HeraldQueueKafka", "HeraldQueueZeroMQ", "HeraldQueueMigration",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HeraldHistoryTests",
            dependencies: [
                "HeraldCore", "HeraldRing", "HeraldHistoryMemory", "HeraldHistoryRedis", "HeraldTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HeraldRouterTests",
            dependencies: [
                "HeraldCore", "HeraldRing", "HeraldRouterRedis", "HeraldTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HeraldEndToEndTests",
            dependencies: [
                "HeraldApp", "HeraldComet", "HeraldTesting", "HeraldCore", "HeraldProtocol", "HeraldJob", "HeraldRPC", "HeraldQueueKafka", "HeraldQueueZeroMQ", "HeraldQueueMemory",
                "HeraldHistoryMemory", "HeraldClient", "HeraldLogic",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
