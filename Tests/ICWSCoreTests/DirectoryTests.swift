import Foundation
import HummingbirdBcrypt
import ICWSCore
import Testing

@Suite("Directory file")
struct DirectoryTests {
    static let hash10 = Bcrypt.hash("s3cret", cost: 10)

    func parse(_ json: String) throws -> Directory {
        try Directory.parse(Data(json.utf8), file: "staff.json")
    }

    @Test("a valid file loads users, rights and workgroups; any bcrypt cost and the $2y$ prefix verify")
    func valid() throws {
        let y = "$2y$" + Self.hash10.dropFirst(4)
        let directory = try parse("""
            {"workgroups":[{"name":"Support","members":["agent1"],"supervisors":["boss"]}],
             "users":[{"userId":"agent1","displayName":"Agent One","passwordHash":"\(Self.hash10)",
                       "rights":{"canRequestAssistanceFromSupervisor":true,"showAssistanceButton":true}},
                      {"userId":"boss","passwordHash":"\(y)"}]}
            """)
        #expect(directory.user("agent1")?.rights.canRequestAssistanceFromSupervisor == true)
        #expect(directory.user("boss")?.displayName == "boss")
        #expect(directory.user("boss")?.rights.canRequestAssistanceFromSupervisor == false)
        #expect(directory.supervises("boss", "Support"))
        #expect(directory.isMember("agent1", of: "Support"))
        #expect(directory.verifyPassword("s3cret", for: "agent1") != nil)
        #expect(directory.verifyPassword("s3cret", for: "boss") != nil)
        #expect(directory.verifyPassword("wrong", for: "agent1") == nil)
        #expect(directory.verifyPassword("s3cret", for: "nobody") == nil)
    }

    @Test("a broken file names the file and the field", arguments: [
        (#"{"users":[{"displayName":"x","passwordHash":"$2b$10$abc"}]}"#, "users[0].userId"),
        (#"{"users":[{"userId":"a","passwordHash":"plain"}]}"#, "users[0].passwordHash"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH"},{"userId":"a","passwordHash":"HASH"}]}"#, "users[1].userId"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH"}],"workgroups":[{"name":"W","members":["ghost"]}]}"#, "workgroups[0].members[0]"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH","rights":{"showAssistanceButton":"yes"}}]}"#, "users[0].rights.showAssistanceButton"),
        (#"{"workgroups":[]}"#, "users"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH","administrator":"yes"}]}"#, "users[0].administrator"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH","roles":"Agent"}]}"#, "users[0].roles"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH"}],"statuses":[{"messageText":"no id"}]}"#, "statuses[0].statusId"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH"}],"statuses":[{"statusId":"A"},{"statusId":"a"}]}"#, "statuses[1].statusId"),
        (#"{"users":[{"userId":"a","passwordHash":"HASH"}],"statuses":[{"statusId":"A","isAcd":true}]}"#, "statuses[0].isAcd"),
        ("not json", "(file)"),
    ])
    func broken(json: String, field: String) throws {
        let text = json.replacingOccurrences(of: "HASH", with: Self.hash10)
        do {
            _ = try parse(text)
            Issue.record("accepted a broken file: \(text)")
        } catch let error as DirectoryFileError {
            #expect(error.field == field)
            #expect(error.description.hasPrefix("directory file staff.json: \(field):"))
        }
    }

    @Test("administrator, extension, roles and statuses load; the file's statuses replace the default set")
    func statusesAndExtensions() throws {
        let directory = try parse("""
            {"users":[{"userId":"boss","passwordHash":"\(Self.hash10)","administrator":true,"extension":"100","roles":["Admin"]}],
             "workgroups":[{"name":"W","members":["boss"],"extension":"200","roles":["Agent"]}],
             "statuses":[{"statusId":"Ready","isAcdStatus":true},{"statusId":"Break","canHaveTime":true},{"statusId":"System","isSelectableStatus":false}]}
            """)
        let boss = try #require(directory.user("boss"))
        #expect(boss.administrator && boss.phoneExtension == "100" && boss.roles == ["Admin"])
        #expect(directory.workgroups["W"]?.phoneExtension == "200")
        #expect(directory.statuses.map(\.statusId) == ["Ready", "Break", "System"])
        #expect(directory.status("ready")?.isAcdStatus == true)
        #expect(directory.status("Break")?.canHaveTime == true)
        #expect(directory.status("System")?.isSelectableStatus == false)
        #expect(directory.initialStatus.statusId == "Ready")
        #expect(try parse(#"{"users":[]}"#).statuses == StatusMessage.defaults)
    }

    @Test("the demo directory has the documented users, workgroups and rights")
    func demo() {
        let demo = Directory.demo()
        #expect(Set(demo.users.keys) == ["agent1", "agent2", "agent3", "agent4", "supervisor1", "supervisor2", "admin"])
        #expect(demo.user("admin")?.administrator == true)
        #expect(demo.user("agent1")?.administrator == false)
        #expect(demo.users.values.allSatisfy { !$0.phoneExtension.isEmpty })
        #expect(demo.workgroups.values.allSatisfy { !$0.phoneExtension.isEmpty })
        #expect(demo.statuses.map(\.statusId).contains("Do not disturb"))
        #expect(demo.workgroups["Support"]?.members == ["agent1", "agent2", "agent3"])
        #expect(demo.workgroups["Support"]?.supervisors == ["supervisor1", "supervisor2"])
        #expect(demo.workgroups["Sales"]?.members == ["agent3", "agent4"])
        #expect(demo.workgroups["Sales"]?.supervisors == ["supervisor2"])
        #expect(demo.user("agent4")?.rights.canRequestAssistanceFromSupervisor == false)
        #expect(demo.user("agent4")?.rights.showAssistanceButton == true)
        #expect(demo.verifyPassword("1234", for: "supervisor2") != nil)
    }
}
