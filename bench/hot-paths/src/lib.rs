//! Nothing but the benchmarks in `benches/hot_paths.rs`: `cargo bench -p hot-paths`
//! measures them, `cargo test -p hot-paths --benches` runs each once (CI does, so they
//! cannot rot). See BENCHMARKS.md.
