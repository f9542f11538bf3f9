//! International tracing under the ITI (section V), as a pure core.

pub mod completeness;
pub mod deadlines;
pub mod figures;
pub mod lifecycle;
pub mod request;
pub mod routing;
pub mod text;
pub mod wire;
