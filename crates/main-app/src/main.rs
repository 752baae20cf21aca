//! main-app binary.
fn main() {}
