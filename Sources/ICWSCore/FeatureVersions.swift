import ICWSModel

/// The ICWS feature versions the server advertises; lower ones emulate an older ICWS.
public struct FeatureVersions: Sendable, Equatable {
    /// Feature id → version.
    public private(set) var versions: [String: Int]

    /// The newest versions this server implements.
    public static let newest: [String: Int] = [
        "configuration": 1, "connection": 1, "interactions": 10, "messaging": 2, "queues": 1, "status": 1,
    ]

    public init(emulating overrides: [String: Int] = [:]) {
        var versions = Self.newest
        for (feature, version) in overrides { versions[feature] = version }
        self.versions = versions
    }

    /// Parses `feature=version` overrides (`--emulate interactions=9`).
    public static func parse(_ specs: [String]) throws -> FeatureVersions {
        var overrides: [String: Int] = [:]
        for spec in specs {
            for part in spec.split(separator: ",") {
                let pieces = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard pieces.count == 2, let version = Int(pieces[1]), version >= 1 else {
                    throw FeatureSpecError(spec: String(part))
                }
                guard let newest = newest[pieces[0]] else { throw FeatureSpecError(spec: String(part)) }
                guard version <= newest else { throw FeatureSpecError(spec: "\(part) (newest implemented: \(newest))") }
                overrides[pieces[0]] = version
            }
        }
        return FeatureVersions(emulating: overrides)
    }

    /// The version of a feature, 0 when unknown.
    public func version(of feature: String) -> Int { versions[feature] ?? 0 }

    /// Whether `feature` is at least `version`.
    public func supports(_ feature: String, _ version: Int) -> Bool { self.version(of: feature) >= version }

    /// The feature list as ICWS sends it, sorted by id.
    public var featureInfoList: [FeatureInfo] {
        versions.keys.sorted().map { FeatureInfo(featureId: $0, version: versions[$0] ?? 0) }
    }
}

/// A malformed `--emulate` value.
public struct FeatureSpecError: Error, CustomStringConvertible {
    public let spec: String
    public var description: String { "invalid feature version '\(spec)': expected FEATURE=VERSION with a known feature" }
}
