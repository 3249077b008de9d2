import Foundation
import HTTPTypes
import ICWSModel
import Testing

/// The exact JSON content type every ICWS JSON response must carry (spec §1).
let icwsContentType = "application/vnd.inin.icws+JSON; charset=utf-8"

/// The `WWW-Authenticate` value every ICWS 401 must carry (spec §2).
let icwsWWWAuthenticate = #"ICWS realm="ICWS" location="/ICWS/connection""#

/// The login body real clients send.
func loginBody(userID: String = "agent1", password: String = "1234", extra: String = "") -> String {
    #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"tests","userID":"\#(userID)","password":"\#(password)"\#(extra)}"#
}

extension HTTPFields {
    /// Builds header fields from name/value pairs.
    static func named(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }
}

extension HTTPResult {
    /// Whether the body is a compact ICWS date such as `20240105T142233Z`.
    static func isCompactDate(_ text: String?) -> Bool {
        guard let text else { return false }
        return text.wholeMatch(of: /\d{8}T\d{6}Z/) != nil && ICWSDate.date(from: text) != nil
    }
}

/// Checks the headers every response carries and, for JSON bodies, the ICWS content type.
func expectTransportHeaders(_ result: HTTPResult, json: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.header("Cache-Control") == "no-cache, no-store, must-revalidate", sourceLocation: sourceLocation)
    #expect(result.header("Pragma") == "no-cache", sourceLocation: sourceLocation)
    #expect(result.header("Expires") == "0", sourceLocation: sourceLocation)
    if json {
        #expect(result.header("Content-Type") == icwsContentType, sourceLocation: sourceLocation)
    }
}

/// Checks an ICWS 401: status, errorCode, and the `WWW-Authenticate` challenge.
func expectUnauthorized(
    _ result: HTTPResult, errorCode: Int, errorId: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == .unauthorized, "\(result.text)", sourceLocation: sourceLocation)
    #expect(result.errorCode == errorCode, "\(result.text)", sourceLocation: sourceLocation)
    #expect(result.errorId == errorId, "\(result.text)", sourceLocation: sourceLocation)
    #expect(result.object["message"] is String, sourceLocation: sourceLocation)
    #expect(result.header("WWW-Authenticate") == icwsWWWAuthenticate, sourceLocation: sourceLocation)
    expectTransportHeaders(result, json: true, sourceLocation: sourceLocation)
}

/// Checks an ICWS error body: status, errorId, a message, and the JSON content type.
func expectError(
    _ result: HTTPResult, _ status: HTTPResponse.Status, _ errorId: String, propertyName: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == status, "\(result.text)", sourceLocation: sourceLocation)
    #expect(result.errorId == errorId, "\(result.text)", sourceLocation: sourceLocation)
    #expect((result.object["message"] as? String)?.isEmpty == false, "\(result.text)", sourceLocation: sourceLocation)
    if let propertyName {
        #expect(result.object["propertyName"] as? String == propertyName, "\(result.text)", sourceLocation: sourceLocation)
    }
    expectTransportHeaders(result, json: true, sourceLocation: sourceLocation)
}
