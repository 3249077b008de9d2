/// The ICWS error body: `{"errorId","errorCode","message"}` and, for property errors, `__type` + `propertyName`.
public struct ICWSErrorBody: Codable, Sendable, Equatable {
    public var type: String?
    public var errorId: String?
    public var errorCode: Int?
    public var message: String
    public var propertyName: String?
    public var alternateHostList: [String]?

    enum CodingKeys: String, CodingKey {
        case type = "__type", errorId, errorCode, message, propertyName, alternateHostList
    }

    public init(
        type: String? = nil, errorId: String? = nil, errorCode: Int? = nil, message: String,
        propertyName: String? = nil, alternateHostList: [String]? = nil
    ) {
        self.type = type
        self.errorId = errorId
        self.errorCode = errorCode
        self.message = message
        self.propertyName = propertyName
        self.alternateHostList = alternateHostList
    }
}

/// One entry of `featureInfoList`.
public struct FeatureInfo: Codable, Sendable, Equatable {
    public var featureId: String
    public var version: Int

    public init(featureId: String, version: Int) {
        self.featureId = featureId
        self.version = version
    }
}

/// `GET /icws/connection/features`.
public struct FeatureInfoList: Codable, Sendable, Equatable {
    public var featureInfoList: [FeatureInfo]

    public init(featureInfoList: [FeatureInfo]) {
        self.featureInfoList = featureInfoList
    }
}

/// `GET /icws/connection/version`; every number is a string on the wire.
public struct ServerVersion: Codable, Sendable, Equatable {
    public var majorVersion: String
    public var minorVersion: String
    public var su: String
    public var build: String
    public var productId: String
    public var codebaseId: String
    public var productReleaseDisplayString: String

    public init(
        majorVersion: String, minorVersion: String, su: String, build: String, productId: String,
        codebaseId: String, productReleaseDisplayString: String
    ) {
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.su = su
        self.build = build
        self.productId = productId
        self.codebaseId = codebaseId
        self.productReleaseDisplayString = productReleaseDisplayString
    }
}

/// `serverTimeInfo`.
public struct ServerTimeInfo: Codable, Sendable, Equatable {
    public var serverUtcTime: String

    public init(serverUtcTime: String) {
        self.serverUtcTime = serverUtcTime
    }
}

/// The 201 body of `POST /icws/connection`.
public struct ConnectionResponse: Codable, Sendable, Equatable {
    public var csrfToken: String
    public var sessionId: String
    public var alternateHostList: [String]
    public var userID: String
    public var userDisplayName: String
    public var icServer: String
    public var version: ServerVersion?
    public var features: [FeatureInfo]?
    public var serverTimeInfo: ServerTimeInfo?

    public init(
        csrfToken: String, sessionId: String, alternateHostList: [String], userID: String, userDisplayName: String,
        icServer: String, version: ServerVersion? = nil, features: [FeatureInfo]? = nil,
        serverTimeInfo: ServerTimeInfo? = nil
    ) {
        self.csrfToken = csrfToken
        self.sessionId = sessionId
        self.alternateHostList = alternateHostList
        self.userID = userID
        self.userDisplayName = userDisplayName
        self.icServer = icServer
        self.version = version
        self.features = features
        self.serverTimeInfo = serverTimeInfo
    }
}
