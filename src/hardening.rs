//! What every request and response goes through, whatever its route: a deadline on the body
//! and headers that stop browsers from guessing types.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// A request's body must arrive within this long after its headers: a client that sends one
/// byte every few seconds would otherwise hold a connection and a worker's attention forever.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);

/// The message a body read past its deadline fails with; the body readers map it to 408.
pub const BODY_TOO_SLOW: &str = "the request body did not arrive within 30 seconds";

/// Whether a payload error is the deadline's.
pub fn is_too_slow(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

struct Deadline {
    inner: Payload,
    expires: Pin<Box<actix_web::rt::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.expires.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    BODY_TOO_SLOW,
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Only a request that announces a body gets the deadline (and its timer); most are reads.
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|l| l.as_bytes() != b"0");
    if has_body {
        let body = req.take_payload();
        let limited: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(Deadline {
                inner: body,
                expires: Box::pin(actix_web::rt::time::sleep(BODY_DEADLINE)),
                expired: false,
            });
        req.set_payload(Payload::from(limited));
    }
    let mut res = next.call(req).await?;
    if matches!(
        res.status(),
        StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
    ) {
        // The rest of a slow or oversized body is not waited for: the connection ends with
        // this answer.
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if res.request().path().starts_with("/api/docs") {
        // Swagger UI's own page: scripts and styles from the binary only (its inline styles
        // and data: images allowed), and never inside another site's frame.
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_POLICY),
        );
    }
    Ok(res)
}
