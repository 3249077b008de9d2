import HummingbirdBcrypt
@testable import ICWSCore
import Testing

@Suite("Directory: refusals do not tell which user ids exist")
struct DirectoryTimingTests {
    @Test("unknown user ids are checked against a hash as costly as the directory's costliest")
    func unknownUsersCostTheSame() {
        let rights = UserRights(canRequestAssistanceFromSupervisor: true, showAssistanceButton: true)
        let users = [
            DirectoryUser(userId: "a", displayName: "A", passwordHash: Bcrypt.hash("x", cost: 4), rights: rights),
            DirectoryUser(userId: "b", displayName: "B", passwordHash: Bcrypt.hash("y", cost: 6), rights: rights),
        ]
        let directory = Directory(users: users, workgroups: [])
        #expect(directory.timingHashCost == 6)
        #expect(directory.verifyPassword("x", for: "nobody") == nil)
        #expect(directory.verifyPassword("y", for: "b") != nil)
    }
}
