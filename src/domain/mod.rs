//! Pure types and rules: no SQL, no HTTP. Values that pass through here have been parsed once.

pub mod account;
pub mod agent_report;
pub mod bindings;
pub mod clock;
pub mod compose;
pub mod dependencies;
pub mod deployment;
pub mod discovery;
pub mod enums;
pub mod exports;
pub mod full_export;
pub mod history;
pub mod journal_image;
pub mod map;
pub mod net;
pub mod outbound;
pub mod password;
pub mod port;
pub mod principal;
pub mod role;
pub mod template;
pub mod text;
pub mod token;
pub mod topology;
pub mod totp;
pub mod webhooks;

use crate::error::ApiError;

/// A new id: a UUID whose leading bits are the time (version 7), so that new rows land at the
/// end of every index keyed by id (the journal's, the versions', the live tables' own) instead
/// of on a random page that each commit would have to write.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

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
