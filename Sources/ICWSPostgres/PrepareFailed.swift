/// Carries an error thrown by a commit's `prepare` through the database layer, so that it reaches the
/// caller unchanged instead of being reported as an unavailable store.
struct PrepareFailed: Error {
    var underlying: any Error
}
