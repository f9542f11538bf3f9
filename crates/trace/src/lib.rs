//! International tracing under the ITI (section V), as a pure core.

pub mod request;
pub mod text;
pub mod wire;
