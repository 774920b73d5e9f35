// swift-tools-version:6.0
// Micro-benchmarks, kept out of the main build. Run: Benchmarks/run.sh
import PackageDescription

let package = Package(
    name: "HeraldBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Herald", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        .executableTarget(
            name: "HeraldMicroBenchmarks",
            dependencies: [
                .product(name: "HeraldCore", package: "Herald"),
                .product(name: "HeraldProtocol", package: "Herald"),
                .product(name: "HeraldComet", package: "Herald"),
                .product(name: "HeraldLogic", package: "Herald"),
                .product(name: "HeraldJob", package: "Herald"),
                .product(name: "HeraldRPC", package: "Herald"),
                .product(name: "HeraldPlugins", package: "Herald"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        )
    ]
)
