//! Idempotent requests still running: a second request with the same key waits its turn (409).

use std::collections::HashSet;
use std::sync::Mutex;

use crate::db::idempotency::Scope;
use crate::error::{ApiError, ApiResult};

/// Scopes of idempotent requests still running; a second request with the same key gets 409.
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<Scope>>);

pub struct InFlightGuard<'a> {
    set: &'a InFlight,
    scope: Scope,
}

impl InFlight {
    pub fn enter(&self, scope: &Scope) -> ApiResult<InFlightGuard<'_>> {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !running.insert(scope.clone()) {
            let mut err =
                ApiError::conflict("A request with this Idempotency-Key is still running")
                    .with_field("Idempotency-Key")
                    .with_hint("Retry after the first request has finished");
            err.retry_after = Some(1);
            return Err(err);
        }
        Ok(InFlightGuard {
            set: self,
            scope: scope.clone(),
        })
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.scope);
    }
}
