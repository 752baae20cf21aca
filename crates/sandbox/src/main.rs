//! The `sandbox` binary (placeholder until the binary stage).
fn main() {}
