import ICWSPostgres
import Testing

extension StoreSuites {
    /// Parsing of the PostgreSQL connection URL (no database needed).
    @Suite
    struct PostgresURLParsing {
        @Test func fullURL() throws {
            let url = try PostgresURL("postgresql://us%40er:p%3Ass%2Fw@db.example:6543/openicws?sslmode=disable")
            #expect(url == PostgresURL(user: "us@er", password: "p:ss/w", host: "db.example", port: 6543, database: "openicws"))
        }

        @Test func defaults() throws {
            let url = try PostgresURL("postgres://postgres@127.0.0.1")
            #expect(url == PostgresURL(user: "postgres", password: nil, host: "127.0.0.1", port: 5432, database: "postgres"))
            #expect(try PostgresURL("postgres://u@[::1]:5433/d").host == "::1")
        }

        @Test(arguments: [
            ("mysql://u@h/d", "scheme"), ("postgres://h:5432/d", "user"), ("postgres://u@h:99999/d", "port"),
            ("postgres://u@:5432/d", "host"), ("postgres://u@h/d?sslmode=require", "sslmode=require"),
            ("postgres://u@h/d?foo=1", "foo"),
        ])
        func badURLsNameTheProblem(url: String, problem: String) {
            #expect {
                try PostgresURL(url)
            } throws: { error in
                String(describing: error).contains(problem)
            }
        }
    }
}

