# The everyday commands. Each is also written in the README as the plain command it runs.

default:
    @just --list

# Start the server on the embedded defaults (SQLite in ./data, mail files in ./data/mail)
run *ARGS:
    cargo run -p reset-server -- {{ARGS}}

# Run every test (SQLite and PostgreSQL; PostgreSQL from RESET_TEST_POSTGRES_URL)
test:
    cargo test --workspace

# What CI checks besides the tests: rustfmt, clippy, no module cycles inside a crate, and that reset-core depends on no framework or database
lint:
    cargo fmt --all --check
    cargo clippy --all-targets -- -D warnings
    python3 scripts/module-cycles.py
    for dep in diesel diesel-async axum actix-web warp hyper; do ! cargo tree -p reset-core -e normal -i "$dep" >/dev/null 2>&1 || { echo "reset-core depends on $dep"; exit 1; }; done

# Regenerate openapi/reset.v1.json and its 3.0.3 rendition after a deliberate API change (review the diff)
openapi:
    UPDATE_OPENAPI=1 cargo test -p reset-api --test openapi

# Generate the Go client (openapi-generator, default options) and compile it, as CI does
go-client:
    bash scripts/go-client.sh

# Micro-benchmarks (criterion) and the HTTP load run; results go in docs/benchmarks.md
bench:
    cargo bench -p reset-core
    cargo run --release -p reset-load

# The demo's topology locally: PostgreSQL if present (else SQLite), an SMTP catcher, the three servers
demo:
    bash scripts/demo.sh

# The full CI gate, as it runs on a clean clone
ci:
    bash .ci/run
