import Foundation
import ICWSModel
import Testing

@Suite("Compact ICWS dates")
struct ICWSDateTests {
    @Test("formats UTC in the compact form and parses it back")
    func roundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_704_464_553)  // 2024-01-05 14:22:33 UTC
        #expect(ICWSDate.string(from: date) == "20240105T142233Z")
        #expect(ICWSDate.date(from: "20240105T142233Z") == date)
        #expect(ICWSDate.string(from: Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
        #expect(ICWSDate.date(from: "2024-01-05T14:22:33Z") == nil)
    }
}
