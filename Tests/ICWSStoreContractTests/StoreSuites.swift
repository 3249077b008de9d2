import Testing

/// Every store test, one at a time: the restart test stops the shared PostgreSQL cluster.
@Suite(.serialized)
struct StoreSuites {}
