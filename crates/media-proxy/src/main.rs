//! media-proxy binary.
fn main() {}
