//! media-proxy
