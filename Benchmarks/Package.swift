// swift-tools-version:6.1
// The benchmark runner: kept out of the main package so `swift build` / `swift test` stay lean.
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which depends on where the project was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "openicws-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "icws-bench",
            dependencies: [
                .product(name: "ICWSLoad", package: root),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/icws-bench"
        )
    ]
)
