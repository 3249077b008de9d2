import Foundation
import HTTPTypes
import ICWSModel
import Testing

@Suite("Connection: login, session checks, logout and session-less resources")
struct ConnectionTests {
    // MARK: Login

    @Test("Login answers 201 with the body fields and the session headers, cookie and Location path")
    func loginSucceeds() async throws {
        try await TestServer.make().run { http in
            let result = try await http.login("agent1")
            #expect(result.status == .created, "\(result.text)")
            expectTransportHeaders(result, json: true)

            let body = result.object
            let sid = try #require(body["sessionId"] as? String)
            let csrf = try #require(body["csrfToken"] as? String)
            #expect(sid.wholeMatch(of: /\d{9,}/) != nil, "session id \(sid) is not a digit string of 9 or more digits")
            #expect(csrf.count >= 22, "a CSRF token of \(csrf.count) characters cannot hold 128 random bits")
            #expect(body["alternateHostList"] as? [Any] != nil)
            #expect(body["userID"] as? String == "agent1")
            #expect((body["userDisplayName"] as? String)?.isEmpty == false)
            #expect((body["icServer"] as? String)?.isEmpty == false)
            #expect(body["__type"] == nil, "the connection response is a plain DTO")
            #expect(body["version"] == nil && body["features"] == nil && body["serverTimeInfo"] == nil)

            #expect(result.header("ININ-ICWS-Session-ID") == sid)
            #expect(result.header("ININ-ICWS-CSRF-Token") == csrf)
            #expect(result.header("Location") == "/icws/\(sid)/connection")
            let cookie = try #require(result.header("Set-Cookie"))
            let escaped = NSRegularExpression.escapedPattern(for: sid)
            let pattern = try Regex("icws_\(escaped)=[^;\\s]+; Path=/icws/\(escaped); HttpOnly")
            #expect(cookie.wholeMatch(of: pattern) != nil, "Set-Cookie was \(cookie)")
        }
    }

    @Test("Two logins get different session ids, tokens and cookies")
    func loginsAreDistinct() async throws {
        try await TestServer.make().run { http in
            let one = try await http.session("agent1")
            let two = try await http.session("agent1")
            #expect(one.sessionId != two.sessionId)
            #expect(one.csrfToken != two.csrfToken)
            #expect(one.cookie.split(separator: "=").last != two.cookie.split(separator: "=").last)
            // One session's token does not open the other.
            let crossed = try await http.send(.get, two.base + "/connection", headers: .named([
                ("ININ-ICWS-CSRF-Token", one.csrfToken), ("Cookie", two.cookie),
            ]))
            expectUnauthorized(crossed, errorCode: 2)
        }
    }

    @Test("include=version,features,server-time adds those parts; unknown include values are ignored")
    func loginIncludes() async throws {
        try await TestServer.make().run { http in
            let result = try await http.login("agent1", include: "version,bogus,features,server-time")
            #expect(result.status == .created, "\(result.text)")
            let version = try #require(result.object["version"] as? [String: Any])
            #expect(version["majorVersion"] is String)
            #expect(version["productId"] is String)
            let features = try #require(result.object["features"] as? [[String: Any]])
            #expect(features.contains { $0["featureId"] as? String == "interactions" && $0["version"] as? Int == 10 })
            let time = try #require(result.object["serverTimeInfo"] as? [String: Any])
            #expect(HTTPResult.isCompactDate(time["serverUtcTime"] as? String), "\(time)")
            #expect(result.object["bogus"] == nil)

            let onlyUnknown = try await http.login("agent1", include: "nothing-known")
            #expect(onlyUnknown.status == .created)
            #expect(onlyUnknown.object["version"] == nil)
            #expect(onlyUnknown.object["features"] == nil)
            #expect(onlyUnknown.object["serverTimeInfo"] == nil)
        }
    }

    @Test("Wrong password and unknown user get the same 400 authenticationFailure answer")
    func loginFailuresLookAlike() async throws {
        try await TestServer.make().run { http in
            let wrongPassword = try await http.login("agent1", password: "4321")
            let unknownUser = try await http.login("nobody", password: "1234")
            for result in [wrongPassword, unknownUser] {
                expectError(result, .badRequest, "error.request.connection.authenticationFailure")
                #expect(result.errorCode == -2_147_221_503)
                #expect(result.header("ININ-ICWS-Session-ID") == nil)
                #expect(result.header("Set-Cookie") == nil)
            }
            #expect(wrongPassword.text == unknownUser.text, "the answers differ, which tells an attacker which user ids exist")
        }
    }

    @Test("Login without Accept-Language answers 400 error.request.invalidHeader")
    func loginNeedsAcceptLanguage() async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.post, "/icws/connection", json: loginBody())
            expectError(result, .badRequest, "error.request.invalidHeader")
        }
    }

    @Test("Login with a body that is not a JSON object answers 400 invalidRepresentation", arguments: [
        "userID=agent1&password=1234", "[1,2,3]", "{\"userID\":",
    ])
    func loginRejectsNonJSON(body: String) async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.post, "/icws/connection", headers: [.acceptLanguage: "en-US"], json: body)
            expectError(result, .badRequest, "error.request.invalidRepresentation")
        }
    }

    @Test("Login with an unsupported __type answers 400 invalidRepresentation")
    func loginRejectsUnknownType() async throws {
        try await TestServer.make().run { http in
            let body = #"{"__type":"urn:inin.com:connection:authTokenConnectionRequestSettings","applicationName":"tests","authToken":"x"}"#
            let result = try await http.send(.post, "/icws/connection", headers: [.acceptLanguage: "en-US"], json: body)
            expectError(result, .badRequest, "error.request.invalidRepresentation")
        }
    }

    @Test("Login without userID answers 400 missingPropertyError naming userID")
    func loginNeedsUserID() async throws {
        try await TestServer.make().run { http in
            let body = #"{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"tests","password":"1234"}"#
            let result = try await http.send(.post, "/icws/connection", headers: [.acceptLanguage: "en-US"], json: body)
            expectError(result, .badRequest, "error.request.invalidRepresentation.missingProperty", propertyName: "userID")
            #expect(result.object["__type"] as? String == "urn:inin.com:common:missingPropertyError")
        }
    }

    @Test("Login tolerates any Content-Type (or none) and unknown properties", arguments: [
        nil, "application/json", "application/vnd.inin.icws+JSON", "application/x-www-form-urlencoded; charset=UTF-8", "text/plain",
    ] as [String?])
    func loginTolerance(contentType: String?) async throws {
        try await TestServer.make().run { http in
            var headers: HTTPFields = [.acceptLanguage: "en-US"]
            if let contentType { headers[.contentType] = contentType }
            let body = loginBody(extra: #","x-icws":null,"somethingNew":{"nested":[1,2]}"#)
            let result = try await http.send(.post, "/icws/connection", headers: headers, json: body)
            #expect(result.status == .created, "\(result.text)")
            #expect(result.object["userID"] as? String == "agent1")
        }
    }

    // MARK: Session checks

    @Test("An unknown session id answers 401 errorCode 1 with the ICWS challenge")
    func unknownSession() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let other = session.sessionId == "123456789" ? "987654321" : "123456789"
            let result = try await http.send(.get, "/icws/\(other)/connection", headers: session.authHeaders)
            expectUnauthorized(result, errorCode: 1)
        }
    }

    @Test("A missing or wrong CSRF token answers 401 errorCode 2")
    func csrfChecked() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let missing = try await http.send(.get, session.base + "/connection", headers: [.cookie: session.cookie])
            expectUnauthorized(missing, errorCode: 2)
            let wrong = try await http.send(.get, session.base + "/connection", headers: .named([
                ("ININ-ICWS-CSRF-Token", session.csrfToken + "x"), ("Cookie", session.cookie),
            ]))
            expectUnauthorized(wrong, errorCode: 2)
            // A state-changing call without CSRF changes nothing: the session is still up.
            let logout = try await http.send(.delete, session.base + "/connection", headers: [.cookie: session.cookie])
            expectUnauthorized(logout, errorCode: 2)
            #expect(try await session.send(.get, "/connection").status == .ok)
        }
    }

    @Test("A missing or wrong session cookie answers 401 errorCode 4")
    func cookieChecked() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let csrf = ("ININ-ICWS-CSRF-Token", session.csrfToken)
            let missing = try await http.send(.get, session.base + "/connection", headers: .named([csrf]))
            expectUnauthorized(missing, errorCode: 4)
            let wrong = try await http.send(.get, session.base + "/connection", headers: .named([
                csrf, ("Cookie", "icws_\(session.sessionId)=not-the-cookie"),
            ]))
            expectUnauthorized(wrong, errorCode: 4)
            let otherName = try await http.send(.get, session.base + "/connection", headers: .named([
                csrf, ("Cookie", "icws_1=" + (session.cookie.split(separator: "=").last.map(String.init) ?? "")),
            ]))
            expectUnauthorized(otherName, errorCode: 4)
        }
    }

    @Test("The cookie works sent back as the raw Set-Cookie string and mixed with other cookies")
    func lenientCookies() async throws {
        try await TestServer.make().run { http in
            let login = try await http.login("agent1")
            let sid = try #require(login.header("ININ-ICWS-Session-ID"))
            let csrf = try #require(login.header("ININ-ICWS-CSRF-Token"))
            let setCookie = try #require(login.header("Set-Cookie"))
            let pair = String(setCookie.split(separator: ";")[0])

            let raw = try await http.send(.get, "/icws/\(sid)/connection", headers: .named([
                ("ININ-ICWS-CSRF-Token", csrf), ("Cookie", setCookie),
            ]))
            #expect(raw.status == .ok, "\(raw.text)")
            let mixed = try await http.send(.get, "/icws/\(sid)/connection", headers: .named([
                ("ININ-ICWS-CSRF-Token", csrf), ("Cookie", "theme=dark; \(pair); JSESSIONID=abc123"),
            ]))
            #expect(mixed.status == .ok, "\(mixed.text)")
            let separateHeaders = try await http.send(.get, "/icws/\(sid)/connection", headers: .named([
                ("ININ-ICWS-CSRF-Token", csrf), ("Cookie", "theme=dark"), ("Cookie", pair),
            ]))
            #expect(separateHeaders.status == .ok, "\(separateHeaders.text)")
        }
    }

    @Test("The messages GET works with the cookie alone but not without the cookie")
    func messagesNeedOnlyTheCookie() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let cookieOnly = try await http.send(.get, session.base + "/messaging/messages", headers: [.cookie: session.cookie])
            #expect(cookieOnly.status == .ok, "\(cookieOnly.text)")
            #expect(cookieOnly.text == "[]")
            expectTransportHeaders(cookieOnly, json: true)
            let csrfOnly = try await http.send(.get, session.base + "/messaging/messages", headers: .named([
                ("ININ-ICWS-CSRF-Token", session.csrfToken),
            ]))
            expectUnauthorized(csrfOnly, errorCode: 4)
            // Only the messages GET is exempt from CSRF: the heartbeat is not.
            let heartbeat = try await http.send(.post, session.base + "/messaging/heartbeat", headers: [.cookie: session.cookie])
            expectUnauthorized(heartbeat, errorCode: 2)
        }
    }

    @Test("GET connection answers {\"connectionState\":1}")
    func connectionState() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let result = try await session.send(.get, "/connection")
            #expect(result.status == .ok)
            expectTransportHeaders(result, json: true)
            #expect(result.object.count == 1)
            #expect(result.object["connectionState"] as? Int == 1)
        }
    }

    @Test("DELETE {Location} logs out with 200; then every call answers 401 -2147221499")
    func logout() async throws {
        try await TestServer.make().run { http in
            let login = try await http.login("agent1")
            let location = try #require(login.header("Location"))
            let session = try await http.session("agent1")
            let other = try #require(login.header("ININ-ICWS-Session-ID"))
            let headers = HTTPFields.named([
                ("ININ-ICWS-CSRF-Token", try #require(login.header("ININ-ICWS-CSRF-Token"))),
                ("Cookie", try #require(login.header("Set-Cookie"))),
            ])
            let delete = try await http.send(.delete, location, headers: headers)
            #expect(delete.status == .ok, "\(delete.text)")
            expectTransportHeaders(delete, json: false)

            for (method, path) in [
                (HTTPRequest.Method.get, "/connection"), (.get, "/messaging/messages"), (.delete, "/connection"),
                (.put, "/messaging/subscriptions/interactions/agent-assistance"),
            ] {
                let after = try await http.send(method, "/icws/\(other)" + path, headers: headers)
                expectUnauthorized(after, errorCode: -2_147_221_499, errorId: "error.request.connection.authenticationFailure")
            }
            // Another session of the same user is unaffected.
            #expect(try await session.send(.get, "/connection").status == .ok)
        }
    }

    @Test("PUT {Location}/station with workstationSettings answers 200")
    func station() async throws {
        try await TestServer.make().run { http in
            let login = try await http.login("agent1")
            let location = try #require(login.header("Location"))
            let headers = HTTPFields.named([
                ("ININ-ICWS-CSRF-Token", try #require(login.header("ININ-ICWS-CSRF-Token"))),
                ("Cookie", String(try #require(login.header("Set-Cookie")).split(separator: ";")[0])),
            ])
            let body = #"{"__type":"urn:inin.com:connection:workstationSettings","workstation":"7001","supportedMediaTypes":[1],"readyForInteractions":true}"#
            let result = try await http.send(.put, location + "/station", headers: headers, json: body)
            #expect(result.status == .ok, "\(result.text)")
            #expect(result.object.isEmpty && result.json != nil, "\(result.text)")
            expectTransportHeaders(result, json: true)
            let stationless = try await http.send(.put, location + "/station", headers: headers, json: #"{"__type":"urn:inin.com:connection:stationlessSettings"}"#)
            #expect(stationless.status == .ok, "\(stationless.text)")
            // A __type that is not a string names no known type: refused, as an unknown type is.
            let objectType = try await http.send(.put, location + "/station", headers: headers, json: #"{"__type":{}}"#)
            expectError(objectType, .badRequest, "error.request.invalidRepresentation.invalidProperty", propertyName: "__type")
            let loginObjectType = try await http.send(
                .post, "/icws/connection", headers: .named([("Accept-Language", "en-US")]),
                json: #"{"__type":{},"userID":"agent1","password":"1234"}"#)
            expectError(loginObjectType, .badRequest, "error.request.invalidRepresentation.invalidProperty", propertyName: "__type")
        }
    }

    // MARK: Session-less resources

    @Test("Features list advertises connection, messaging 2, interactions 10 and queues 1")
    func features() async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.get, "/icws/connection/features")
            #expect(result.status == .ok)
            expectTransportHeaders(result, json: true)
            let list = try #require(result.object["featureInfoList"] as? [[String: Any]])
            var versions: [String: Int] = [:]
            for item in list {
                if let id = item["featureId"] as? String, let version = item["version"] as? Int { versions[id] = version }
            }
            #expect(versions["messaging"] == 2)
            #expect(versions["interactions"] == 10)
            #expect(versions["queues"] == 1)
            #expect(versions["connection"] != nil)
        }
    }

    @Test("A single feature answers {featureId, version}; an unknown one answers 404")
    func singleFeature() async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.get, "/icws/connection/features/interactions")
            #expect(result.status == .ok)
            #expect(result.object["featureId"] as? String == "interactions")
            #expect(result.object["version"] as? Int == 10)
            #expect(result.object["__type"] == nil)
            let unknown = try await http.send(.get, "/icws/connection/features/teleportation")
            expectError(unknown, .notFound, "error.request.notFound")
        }
    }

    @Test("The version resource answers every field as a string")
    func version() async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.get, "/icws/connection/version")
            #expect(result.status == .ok)
            expectTransportHeaders(result, json: true)
            for key in ["majorVersion", "minorVersion", "su", "build", "productId", "codebaseId", "productReleaseDisplayString"] {
                #expect(result.object[key] is String, "\(key) is not a string in \(result.text)")
            }
        }
    }

    @Test("Server time is a compact UTC date close to now")
    func serverTime() async throws {
        try await TestServer.make().run { http in
            let result = try await http.send(.get, "/icws/connection/server-time")
            #expect(result.status == .ok)
            let text = result.object["serverUtcTime"] as? String
            #expect(HTTPResult.isCompactDate(text), "\(result.text)")
            let date = try #require(text.flatMap(ICWSDate.date(from:)))
            #expect(abs(date.timeIntervalSinceNow) < 60)
        }
    }

    @Test("A wrong method on a known path answers 405 httpMethodNotAllowed")
    func wrongMethod() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let results = [
                try await http.send(.post, "/icws/connection/version"),
                try await http.send(.delete, "/icws/connection/features"),
                try await http.send(.get, "/icws/connection"),
                try await session.send(.post, "/connection"),
                try await session.send(.get, "/connection/station"),
                try await http.send(.patch, "/icws/connection/version"),
                try await session.send(.patch, "/connection"),
                try await http.send(.trace, "/icws/connection/version"),
                try await http.send(.trace, "/health"),
                try await session.send(.trace, "/messaging/messages"),
                try await http.send(try #require(HTTPRequest.Method("QUERY")), "/admin/interactions"),
            ]
            for result in results {
                expectError(result, .methodNotAllowed, "error.request.accessDenied.httpMethodNotAllowed")
            }
        }
    }

    @Test("An unknown path answers 404 with an ICWS error body")
    func unknownPath() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            for result in [
                try await http.send(.get, "/icws/connection/nothing-here"),
                try await http.send(.get, "/nowhere"),
                try await session.send(.get, "/no/such/resource"),
            ] {
                expectError(result, .notFound, "error.request.notFound")
            }
        }
    }

    @Test("Subscription DELETE is idempotent: 204 twice, even with nothing subscribed")
    func subscriptionDeleteIdempotent() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let path = "/messaging/subscriptions/interactions/agent-assistance"
            let first = try await session.send(.delete, path)
            let second = try await session.send(.delete, path)
            #expect(first.status == .noContent)
            #expect(second.status == .noContent)
            expectTransportHeaders(second, json: false)
            #expect(try await session.send(.put, path).status == .noContent)
            #expect(try await session.send(.delete, path).status == .noContent)
            #expect(try await session.send(.delete, path).status == .noContent)
        }
    }

    @Test("Bodies on GET and DELETE are ignored, whatever they hold")
    func bodiesIgnoredOnGetAndDelete() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let garbage = "this is not JSON {"
            #expect(try await session.send(.get, "/connection", json: garbage).status == .ok)
            let poll = try await http.send(.get, session.base + "/messaging/messages", headers: [.cookie: session.cookie], json: garbage)
            #expect(poll.status == .ok, "\(poll.text)")
            #expect(try await http.send(.get, "/icws/connection/features", json: garbage).status == .ok)
            let unsubscribe = try await session.send(.delete, "/messaging/subscriptions/interactions/agent-assistance", json: garbage)
            #expect(unsubscribe.status == .noContent, "\(unsubscribe.text)")
            let logout = try await session.send(.delete, "/connection", json: #"{"x-icws":null}"#)
            #expect(logout.status == .ok, "\(logout.text)")
            expectUnauthorized(try await session.send(.get, "/connection"), errorCode: -2_147_221_499, errorId: "error.request.connection.authenticationFailure")
        }
    }

    @Test("Every kind of response carries the no-cache headers")
    func noCacheEverywhere() async throws {
        try await TestServer.make().run { http in
            let session = try await http.session("agent1")
            let login = try await http.login("agent2")
            expectTransportHeaders(login, json: true)
            expectTransportHeaders(try await http.login("agent2", password: "bad"), json: true)
            expectTransportHeaders(try await http.send(.get, "/icws/connection/features"), json: true)
            expectTransportHeaders(try await http.send(.get, "/nowhere"), json: true)
            expectTransportHeaders(try await http.send(.get, session.base + "/connection"), json: true)
            expectTransportHeaders(try await session.send(.post, "/messaging/heartbeat"), json: false)
            expectTransportHeaders(try await session.send(.get, "/messaging/messages"), json: true)
        }
    }
}
