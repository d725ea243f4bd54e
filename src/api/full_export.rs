//! `GET /api/v1/export` and `POST /api/v1/import`: the whole inventory as one document, and
//! back. Role Owner with a key of every network: the document is the whole database.

use crate::ops::full_import::Importer;
use actix_web::HttpMessage;
use std::io::Write;

use actix_web::http::{header, Method};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::input::QueryParams;
use super::{on, Routes};
use crate::auth::Auth;
use crate::domain::clock;
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    r.at("/api/v1/export", [on(Method::GET, export)])
        .at("/api/v1/import", [on(Method::POST, import)]);
}

fn require_owner_of_everything(auth: &Auth) -> ApiResult<()> {
    auth.require(Role::Owner)?;
    auth.check_global_write()
}

/// Sends what it is given in chunks to the response, from the blocking thread that writes the
/// document, so that the document is never whole in memory.
struct ChunkSender {
    buffer: Vec<u8>,
    chunks: tokio::sync::mpsc::Sender<Bytes>,
}

const CHUNK: usize = 64 * 1024;

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.chunks
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

async fn export(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    require_owner_of_everything(&auth)?;
    let with_history = QueryParams::from_request(&req)?.flag("with_history")?;
    let (chunks, mut received) = tokio::sync::mpsc::channel::<Bytes>(4);
    let now = clock::now();
    let filename = format!("portolan-export-{}.json", &now[..10]);
    let db = state.db.clone();
    // The document is written from one read snapshot while the response streams it. Its first
    // chunk is awaited before answering, so that a failure to start is an error status.
    let writer = actix_web::rt::spawn(async move {
        let writing = db.read(move |c| {
            let mut out = ChunkSender {
                buffer: Vec::with_capacity(CHUNK),
                chunks,
            };
            crate::db::full_export::write_document(c, with_history, &now, &mut out)
        });
        if let Err(e) = writing.await {
            log::warn!("export stopped: {}", e.message);
        }
    });
    let Some(first) = received.recv().await else {
        writer.await.map_err(ApiError::internal)?;
        return Err(ApiError::internal("the export wrote nothing"));
    };
    let rest = futures_util::stream::unfold(received, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(first) }).chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

async fn import(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    require_owner_of_everything(&auth)?;
    let dry_run = QueryParams::from_request(&req)?.flag("dry_run")?;
    // The body goes to a file first: the import reads it as a stream inside the write
    // transaction, whatever its size.
    let dir = state.config.data_dir.clone();
    let file = web::block(move || tempfile_in(&dir))
        .await
        .map_err(ApiError::internal)??;
    let mut pending = Vec::with_capacity(CHUNK);
    let mut spool = file.try_clone().map_err(ApiError::internal)?;
    let cap = u64::from(state.config.import_max_mb) << 20;
    let mut received = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::hardening::is_too_slow(&e) {
                super::input::too_slow_body()
            } else {
                ApiError::validation("document", e.to_string())
            }
        })?;
        received += chunk.len() as u64;
        if received > cap {
            return Err(ApiError::validation(
                "body",
                format!(
                    "The document is larger than {} MiB (PORTOLAN_IMPORT_MAX_MB)",
                    state.config.import_max_mb
                ),
            )
            .with_status(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE));
        }
        pending.extend_from_slice(&chunk);
        if pending.len() >= 16 * CHUNK {
            let full = std::mem::take(&mut pending);
            spool = web::block(move || spool.write_all(&full).map(|()| spool))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
        }
    }
    web::block(move || spool.write_all(&pending))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let receivers = state.config.webhook_receivers.clone();
    let request_id = req
        .extensions()
        .get::<crate::request_log::RequestId>()
        .map(|r| r.0.clone());
    let who = auth.0.clone();
    // The document streams from `file`: an import runs once, in a savepoint of its own.
    let report = state
        .db
        .write_once(move |tx| {
            let mut file = file;
            std::io::Seek::rewind(&mut file).map_err(ApiError::internal)?;
            let by = Importer {
                who,
                request_id,
                receivers: &receivers,
            };
            crate::ops::full_import::import(tx, by, file, dry_run)
        })
        .await?;
    Ok(envelope::ok(&report))
}

/// An unnamed file next to the database (removed by the system when closed).
fn tempfile_in(dir: &std::path::Path) -> ApiResult<std::fs::File> {
    let path = dir.join(format!(".import-{}", crate::ops::new_id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(ApiError::internal)?;
    // Unlinked at once: the open handle keeps it until the import is done.
    let _ = std::fs::remove_file(&path);
    Ok(file)
}
