//! The journal's images folded onto the versions they describe (`domain::journal_image`), and
//! unfolded again for every reader: the API, webhooks and the full export see whole images.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::changes::key;
use super::versions::{self, Versioned};
use crate::domain::history::EntityType;
use crate::domain::journal_image::{self, Fold};
use crate::error::ApiResult;

/// The stored form of `image` as the state closed by entry `base_seq` of `t`: a fold when the
/// version exists, the whole image otherwise.
pub fn fold(
    conn: &Connection,
    t: &'static Versioned,
    base_seq: i64,
    image: &Value,
) -> ApiResult<Value> {
    match versions::closed_state(conn, t, base_seq)? {
        Some(base) => fold_onto(conn, &base, base_seq, image),
        None => Ok(image.clone()),
    }
}

/// `fold`, with the version's state already read.
fn fold_onto(
    conn: &Connection,
    base: &Map<String, Value>,
    base_seq: i64,
    image: &Value,
) -> ApiResult<Value> {
    let Value::Object(whole) = image else {
        return Ok(image.clone());
    };
    let overrides = journal_image::overrides(whole, base);
    let shape = super::changes::intern(
        conn,
        &super::changes::SHAPES,
        &journal_image::shape_of(whole),
    )?;
    Ok(Fold {
        shape,
        base_seq,
        overrides,
    }
    .to_value())
}

/// What the entry `seq`, which closes the live state of `entity_id` (its version just written),
/// stores: its `before` folded onto the version, and as `prior` the `after` of the entry that
/// began the state, taken out of the open afters and folded onto the same version.
pub fn close_state(
    conn: &Connection,
    t: &'static Versioned,
    seq: i64,
    entity_id: &str,
    before: &Value,
) -> ApiResult<(Value, Option<Value>)> {
    let Value::Object(image) = before else {
        return Err(crate::error::ApiError::internal(
            "a before image is not an object",
        ));
    };
    let base = versions::closed_state_of(t, entity_id, image);
    debug_assert_eq!(
        versions::closed_state(conn, t, seq).ok().flatten().as_ref(),
        Some(&base),
        "the version as written reads back as worked out"
    );
    let folded_before = fold_onto(conn, &base, seq, before)?;
    let open: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT o.seq, o.after FROM journal_open_afters o
             WHERE o.seq = (SELECT max(seq) FROM journal WHERE entity_id = ?)",
        )?
        .query_row([key(entity_id)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((began, after)) = open else {
        return Ok((folded_before, None));
    };
    conn.prepare_cached("DELETE FROM journal_open_afters WHERE seq = ?")?
        .execute([began])?;
    // Mostly the state ends as it began (the image that closes it is the one that opened it),
    // and then the two fold alike: comparing the text spares parsing and folding it again.
    // (Text against text: `Value`'s own `==` with a string would compare a JSON string.)
    let closing_text = before.to_string();
    if after == closing_text {
        return Ok((folded_before.clone(), Some(folded_before)));
    }
    let image = serde_json::from_str::<Value>(&after).map_err(crate::error::ApiError::internal)?;
    let prior = Some(fold_onto(conn, &base, seq, &image)?);
    Ok((folded_before, prior))
}

/// Keeps the whole `after` of the entry `seq`, which began a live state, until an entry closes it.
pub fn open_after(conn: &Connection, seq: i64, after: &Value) -> ApiResult<()> {
    conn.prepare_cached("INSERT INTO journal_open_afters (seq, after) VALUES (?, ?)")?
        .execute(params![seq, after.to_string()])?;
    Ok(())
}

/// Whether entries about `entity_type` keep their images folded (the versioned kinds).
pub fn folds(entity_type: &str) -> Option<&'static Versioned> {
    EntityType::parse(entity_type).and_then(versions::of)
}

/// Key orders read so far, by shape id: a page of entries shares a few.
#[derive(Default)]
pub struct Shapes(HashMap<i64, Vec<String>>);

impl Shapes {
    fn keys(&mut self, conn: &Connection, id: i64) -> ApiResult<Option<&Vec<String>>> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(id) {
            let text: Option<String> = conn
                .prepare_cached("SELECT keys FROM journal_shapes WHERE id = ?")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            match text.as_deref().and_then(journal_image::parse_shape) {
                Some(keys) => slot.insert(keys),
                None => return Ok(None),
            };
        }
        Ok(self.0.get(&id))
    }
}

/// The whole image of a stored `before` or `after` of an entry about `entity_type`: a whole
/// image as it is, a fold unfolded from its version. A fold whose version is gone (it cannot
/// be: retention removes entries and their versions together) reads as null.
pub fn unfold(
    conn: &Connection,
    shapes: &mut Shapes,
    entity_type: &str,
    stored: Option<Value>,
) -> ApiResult<Option<Value>> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    let Some(fold) = Fold::from_value(&stored) else {
        return Ok(Some(stored));
    };
    let Some(t) = EntityType::parse(entity_type).and_then(versions::of) else {
        return Ok(None);
    };
    let Some(base) = versions::closed_state(conn, t, fold.base_seq)? else {
        log::warn!(
            "journal: the version {} of a folded image is missing",
            fold.base_seq
        );
        return Ok(None);
    };
    let Some(keys) = shapes.keys(conn, fold.shape)? else {
        return Ok(None);
    };
    Ok(Some(Value::Object(journal_image::unfold(
        keys,
        &base,
        &fold.overrides,
    ))))
}

/// The whole `after` of the entry `seq`: as stored, or for a versioned object's create or
/// update stored without it, from the open afters while the state is live, else from the
/// `prior` of the next entry on the object, which closed the state.
#[allow(clippy::too_many_arguments)]
pub fn unfold_after(
    conn: &Connection,
    shapes: &mut Shapes,
    seq: i64,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    stored: Option<Value>,
) -> ApiResult<Option<Value>> {
    if stored.is_some() || action == "delete" || folds(entity_type).is_none() {
        return unfold(conn, shapes, entity_type, stored);
    }
    let open: Option<String> = conn
        .prepare_cached("SELECT after FROM journal_open_afters WHERE seq = ?")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    if let Some(text) = open {
        return Ok(serde_json::from_str(&text).ok());
    }
    let prior: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT prior FROM journal WHERE entity_id = ? AND seq > ? ORDER BY seq LIMIT 1",
        )?
        .query_row(params![key(entity_id), seq], |r| r.get(0))
        .optional()?;
    let prior = prior.flatten().and_then(|p| serde_json::from_str(&p).ok());
    unfold(conn, shapes, entity_type, prior)
}

/// A journal row of the full export (`before` and `after` as JSON), with whole images.
pub fn unfold_row(
    conn: &Connection,
    shapes: &mut Shapes,
    seq: i64,
    row: &mut Map<String, Value>,
) -> ApiResult<()> {
    let text = |key: &str| {
        row.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (entity_type, entity_id, action) = (text("entity_type"), text("entity_id"), text("action"));
    let mut take = |side: &str| row.get_mut(side).filter(|v| !v.is_null()).map(Value::take);
    let before = unfold(conn, shapes, &entity_type, take("before"))?;
    let stored_after = take("after");
    let after = unfold_after(
        conn,
        shapes,
        seq,
        &entity_type,
        &entity_id,
        &action,
        stored_after,
    )?;
    row.insert("before".into(), before.unwrap_or(Value::Null));
    row.insert("after".into(), after.unwrap_or(Value::Null));
    Ok(())
}

/// Folds the images of a journal written before images were folded (migration 18), once, with
/// the rules every write follows since: each `before` onto the version its entry closed, each
/// `after` whose state a later entry closed onto that entry's version (as its `prior`), and the
/// `after` of each live state into the open afters. An image is only moved where unfolding
/// gives it back. The file is then vacuumed, so the space comes back at once.
pub fn fold_existing(conn: &mut Connection) -> ApiResult<usize> {
    let migrated: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'journal_shapes')",
        [],
        |r| r.get(0),
    )?;
    if !migrated {
        // A database kept at an older schema (tests build those).
        return Ok(0);
    }
    let pending: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'journal_folded'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if pending.as_deref() != Some("0") {
        return Ok(0);
    }
    let tx = conn.transaction()?;
    let mut folded = 0;
    for kind in EntityType::ALL {
        let Some(t) = versions::of(kind) else {
            continue;
        };
        let entries: Vec<(i64, String, Option<String>)> = {
            let mut stmt = tx.prepare(
                "SELECT seq, entity_id, before FROM changes WHERE entity_type = ? ORDER BY seq",
            )?;
            let rows =
                stmt.query_map([kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (seq, entity_id, before) in entries {
            let Some(Ok(image @ Value::Object(_))) =
                before.map(|b| serde_json::from_str::<Value>(&b))
            else {
                continue;
            };
            if versions::closed_state(&tx, t, seq)?.is_none() {
                continue;
            }
            let stored = fold(&tx, t, seq, &image)?;
            tx.prepare_cached("UPDATE journal SET before = ? WHERE seq = ?")?
                .execute(params![stored.to_string(), seq])?;
            folded += 1;
            let began: Option<(i64, Option<String>)> = tx
                .prepare_cached(
                    "SELECT seq, after FROM journal WHERE entity_id = ? AND seq < ?
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row(params![key(&entity_id), seq], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((began, Some(after))) = began else {
                continue;
            };
            let Ok(after @ Value::Object(_)) = serde_json::from_str::<Value>(&after) else {
                continue;
            };
            let prior = fold(&tx, t, seq, &after)?;
            if prior.is_array() {
                tx.prepare_cached("UPDATE journal SET prior = ? WHERE seq = ?")?
                    .execute(params![prior.to_string(), seq])?;
                tx.prepare_cached("UPDATE journal SET after = NULL WHERE seq = ?")?
                    .execute([began])?;
            }
        }
        // What is left whole is the after of a live state.
        tx.execute(
            "INSERT INTO journal_open_afters (seq, after)
             SELECT seq, after FROM changes
             WHERE entity_type = ?1 AND action IN ('create', 'update') AND json_type(after) = 'object'",
            [kind.as_str()],
        )?;
        tx.execute(
            "UPDATE journal SET after = NULL
             WHERE entity_type = ?1 AND action IN ('create', 'update') AND json_type(after) = 'object'",
            [kind.as_str()],
        )?;
    }
    tx.execute(
        "UPDATE settings SET value = '1' WHERE key = 'journal_folded'",
        [],
    )?;
    tx.commit()?;
    if folded > 0 {
        conn.execute_batch("VACUUM")?;
    }
    Ok(folded)
}
