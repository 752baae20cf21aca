//! main-app
