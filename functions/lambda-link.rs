//! The build script of every Lambda function (each one's `Cargo.toml` names it): links
//! the function as a position-dependent executable (`-no-pie`). A position-independent
//! one carries a dynamic relocation for every pointer in its read-only data (vtables,
//! string tables: over 50,000 in order-intake, 1.3 MB of `.rela.dyn`) that the loader
//! applies at every cold start; linked at a fixed address, there are none. The binary
//! is about a tenth smaller and starts half a millisecond sooner (BENCHMARKS.md). What it
//! gives up is the randomised address of the executable's own image (libraries and the
//! stack are still randomised).
fn main() {
    // Only the function's own executable: its tests and dependencies link as before.
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
