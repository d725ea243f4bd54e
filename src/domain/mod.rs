//! Pure types and rules: no SQL, no HTTP. Values that pass through here have been parsed once.

pub mod bindings;
pub mod clock;
pub mod compose;
pub mod dependencies;
pub mod discovery;
pub mod enums;
pub mod exports;
pub mod full_export;
pub mod history;
pub mod map;
pub mod net;
pub mod port;
pub mod principal;
pub mod role;
pub mod template;
pub mod text;
pub mod webhooks;

use crate::error::ApiError;

/// A value that failed to parse; the caller knows which field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }

    /// Attaches the input field the value came from.
    pub fn at(self, field: &str) -> ApiError {
        ApiError::validation(field, format!("Invalid value for \"{field}\": {}", self.0))
    }
}

pub type Parsed<T> = Result<T, Invalid>;
