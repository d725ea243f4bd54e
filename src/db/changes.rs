//! The change journal. `ops::journal` writes each entry, and with an entry that ends a state of
//! a versioned entity, the closed version derived from its `before` image (`versions::close`).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value;

use super::history_fold::{self, Shapes};
use super::json_column;
use super::query::{paged, Filter, PageRequest, Scope};
use crate::domain::history::{Action, Actor, ActorKind, EntityType};
use crate::error::ApiResult;

/// One journal entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = DateTime)]
    pub time: String,
    #[schema(value_type = String, example = "update")]
    pub action: &'static str,
    #[schema(value_type = String, example = "binding")]
    pub entity_type: String,
    /// The live id (a service type's name, for service types).
    pub entity_id: String,
    #[schema(format = Uuid)]
    pub network_id: Option<String>,
    #[schema(value_type = ChangeActor)]
    pub actor: Actor,
    pub request_id: Option<String>,
    pub changed_fields: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// Present (and `true`) on an entry that came in with an import: it names the actor the
    /// document named, which this server did not see make the change.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
    /// Its place in the journal (webhook cursors point at it); not shown.
    #[serde(skip)]
    pub seq: i64,
}

impl Change {
    /// For a key limited to `networks`: an image of the object in a network outside them (the
    /// other side of a move between networks) is shown as `null`.
    pub fn limit_to(&mut self, networks: &[String]) {
        let outside = |image: &Option<Value>| {
            image
                .as_ref()
                .and_then(|i| i.get("network_id"))
                .and_then(Value::as_str)
                .is_some_and(|n| !networks.iter().any(|m| m == n))
        };
        if outside(&self.before) {
            self.before = None;
        }
        if outside(&self.after) {
            self.after = None;
        }
    }
}

/// Who made a change (documentation shape of `Actor`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChangeActor {
    #[schema(rename = "type", value_type = String, example = "api_key")]
    kind: String,
    id: Option<String>,
    name: Option<String>,
    /// The person who owns the key that made the change, when it has an owner.
    user: Option<ChangeActorUser>,
}

/// A person behind a key's change.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChangeActorUser {
    #[schema(format = Uuid)]
    id: String,
    name: String,
}

/// What a write inserts. `before` and `after` are as stored: whole images or folds.
pub struct NewChange<'a> {
    pub seq: Option<i64>,
    pub id: &'a str,
    pub action: Action,
    pub entity_type: EntityType,
    pub entity_id: &'a str,
    pub network_id: Option<&'a str>,
    pub host_id: Option<&'a str>,
    pub service_id: Option<&'a str>,
    pub changed_fields: &'a [String],
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    /// The `after` of the entry that began the state this one closes, folded (`history_fold`).
    pub prior: Option<&'a Value>,
}

/// How the journal stores an id: a canonical UUID as its 16 bytes, anything else (a service
/// type's name) as text. Filters on the journal's ids compare with this.
pub fn key(id: &str) -> SqlValue {
    match uuid::Uuid::parse_str(id) {
        Ok(u) if u.hyphenated().to_string() == id => SqlValue::Blob(u.as_bytes().to_vec()),
        _ => SqlValue::Text(id.to_string()),
    }
}

/// SQL reading an id the journal stored with `key` back as text.
pub fn uuid_text(expr: &str) -> String {
    format!(
        "CASE WHEN typeof({expr}) = 'blob' THEN lower(substr(hex({expr}), 1, 8) || '-' || \
         substr(hex({expr}), 9, 4) || '-' || substr(hex({expr}), 13, 4) || '-' || \
         substr(hex({expr}), 17, 4) || '-' || substr(hex({expr}), 21)) ELSE {expr} END"
    )
}

/// The number under which the journal stores the network, host or service id `id` (each
/// distinct one once, in `journal_ids`), added when new.
fn id_number(conn: &Connection, id: &str) -> ApiResult<i64> {
    let id = key(id);
    let known: Option<i64> = super::optional(
        conn.prepare_cached("SELECT n FROM journal_ids WHERE key = ?")?
            .query_row([&id], |r| r.get(0)),
    )?;
    if let Some(n) = known {
        return Ok(n);
    }
    conn.prepare_cached("INSERT INTO journal_ids (key) VALUES (?)")?
        .execute([&id])?;
    Ok(conn.last_insert_rowid())
}

/// SQL for the number of the network, host or service id bound at `?` (null when the journal
/// never named it), to compare with the view's `network_key`, `host_key` and `service_key`.
const ID_NUMBER: &str = "(SELECT n FROM journal_ids WHERE key = ?)";

/// Opens the journal's record of one write: its instant, actor and request, which every entry
/// of the write shares. Returns its seq.
pub fn insert_write(
    conn: &Connection,
    time: &str,
    actor: &Actor,
    request_id: Option<&str>,
) -> ApiResult<i64> {
    conn.prepare_cached(
        "INSERT INTO journal_writes (time, actor_type, actor_id, actor_name, actor_user, request_id)
         VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        time,
        actor.kind.as_str(),
        actor.id.as_deref().map(key),
        actor.name,
        actor
            .user
            .as_ref()
            .map(|u| serde_json::to_string(u).expect("strings serialise")),
        request_id,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Whether the write `seq` is recorded (in this transaction, after any savepoint rolled back).
pub fn write_exists(conn: &Connection, seq: i64) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM journal_writes WHERE seq = ?)")?
        .query_row([seq], |r| r.get(0))?)
}

/// Inserts the entry (at `seq` when given) of the write `write` (`insert_write`).
pub fn insert(conn: &Connection, write: i64, c: &NewChange) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO journal (seq, write, id, action, entity_type, entity_id, network_id, host_id,
                              service_id, changed_fields, before, after, prior)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        c.seq,
        write,
        key(c.id),
        c.action.as_str(),
        c.entity_type.as_str(),
        key(c.entity_id),
        c.network_id.map(|id| id_number(conn, id)).transpose()?,
        c.host_id.map(|id| id_number(conn, id)).transpose()?,
        c.service_id.map(|id| id_number(conn, id)).transpose()?,
        intern(
            conn,
            &FIELD_SETS,
            &serde_json::to_string(c.changed_fields).expect("strings serialise"),
        )?,
        c.before.map(Value::to_string),
        c.after.map(Value::to_string),
        c.prior.map(Value::to_string),
    ])?;
    Ok(())
}

/// One of the journal's tables of values stored once (`id`, a UNIQUE value column): its two
/// statements, written out so that no entry formats SQL.
pub struct Interned {
    select: &'static str,
    insert: &'static str,
}

/// The lists of changed fields.
pub const FIELD_SETS: Interned = Interned {
    select: "SELECT id FROM journal_field_sets WHERE fields = ?",
    insert: "INSERT INTO journal_field_sets (fields) VALUES (?)",
};

/// The key orders of folded images.
pub const SHAPES: Interned = Interned {
    select: "SELECT id FROM journal_shapes WHERE keys = ?",
    insert: "INSERT INTO journal_shapes (keys) VALUES (?)",
};

/// The id of `value` in `table`, added when new.
pub fn intern(conn: &Connection, table: &Interned, value: &str) -> ApiResult<i64> {
    let known: Option<i64> = super::optional(
        conn.prepare_cached(table.select)?
            .query_row([value], |r| r.get(0)),
    )?;
    if let Some(id) = known {
        return Ok(id);
    }
    conn.prepare_cached(table.insert)?.execute([value])?;
    Ok(conn.last_insert_rowid())
}

/// The time of the newest entry, for a clock that never runs backwards.
pub fn last_time(conn: &Connection) -> ApiResult<Option<String>> {
    super::optional(
        conn.prepare_cached("SELECT time FROM changes ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| r.get(0)),
    )
}

/// The seq the next entry gets (the versions it closes are keyed by it).
pub fn next_seq(conn: &Connection) -> ApiResult<i64> {
    Ok(last_seq(conn)? + 1)
}

/// The newest entry's sequence number (0 for an empty journal): a write that moved it changed
/// something.
pub fn last_seq(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM journal")?
        .query_row([], |r| r.get(0))?)
}

/// Whether a person (signed in, or with an API key or the command line) ever wrote this object:
/// an agent then leaves its name, type and place alone.
pub fn edited_by_person(conn: &Connection, entity_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM changes WHERE entity_key = ? AND actor_type IN ('api_key', 'cli', 'user'))",
        )?
        .query_row([key(entity_id)], |r| r.get(0))?)
}

const COLUMNS: &str = "c.id, c.time, c.action, c.entity_type, c.entity_id, c.network_id, \
                       c.actor_type, c.actor_id, c.actor_name, c.request_id, c.changed_fields, \
                       c.before, c.after, c.imported, c.actor_user, c.seq";

/// One entry by its id (a webhook delivery reads the event it announces).
/// The entry `id`; `seq`, when known, finds it without reading the whole journal.
pub fn get(conn: &Connection, id: &str, seq: Option<i64>) -> ApiResult<Option<Change>> {
    let entry = match seq {
        Some(seq) => {
            let sql = format!("SELECT {COLUMNS} FROM changes c WHERE c.seq = ? AND c.id = ?");
            super::optional(
                conn.prepare_cached(&sql)?
                    .query_row(params![seq, id], from_row),
            )
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM changes c WHERE c.id = ?");
            super::optional(conn.prepare_cached(&sql)?.query_row([id], from_row))
        }
    }?;
    entry
        .map(|mut e| {
            unfold(conn, &mut Shapes::default(), &mut e)?;
            Ok(e)
        })
        .transpose()
}

/// The entry with whole images (as stored, they may be folded onto versions).
fn unfold(conn: &Connection, shapes: &mut Shapes, e: &mut Change) -> ApiResult<()> {
    e.before = history_fold::unfold(conn, shapes, &e.entity_type, e.before.take())?;
    e.after = history_fold::unfold_after(
        conn,
        shapes,
        e.seq,
        &e.entity_type,
        &e.entity_id,
        e.action,
        e.after.take(),
    )?;
    Ok(())
}

fn from_row(r: &Row) -> rusqlite::Result<Change> {
    let action: String = r.get(2)?;
    let actor: String = r.get(6)?;
    Ok(Change {
        id: r.get(0)?,
        time: r.get(1)?,
        action: Action::parse(&action).unwrap_or(Action::Update).as_str(),
        entity_type: r.get(3)?,
        entity_id: r.get(4)?,
        network_id: r.get(5)?,
        actor: Actor {
            kind: ActorKind::parse(&actor).unwrap_or(ActorKind::System),
            id: r.get(7)?,
            name: r.get(8)?,
            user: r
                .get::<_, Option<String>>(14)?
                .and_then(|u| serde_json::from_str(&u).ok()),
        },
        request_id: r.get(9)?,
        changed_fields: json_column(r, 10)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        before: json_column(r, 11)?,
        after: json_column(r, 12)?,
        imported: r.get(13)?,
        seq: r.get(15)?,
    })
}

#[derive(Debug, Default)]
pub struct ChangeFilter {
    pub entity_types: Vec<String>,
    pub entity_ids: Vec<String>,
    pub network_id: Option<String>,
    pub host_id: Option<String>,
    pub service_id: Option<String>,
    pub actor_id: Option<String>,
    pub request_id: Option<String>,
    pub action: Option<&'static str>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Entity types this caller may not read (API keys for callers below Admin).
    pub hidden_types: Vec<&'static str>,
}

/// Newest first. A scoped key sees entries of its networks only (global ones have no network).
pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &ChangeFilter,
    page: PageRequest,
) -> ApiResult<(Vec<Change>, u64)> {
    let mut filter = Filter::new();
    if let Some(networks) = scope {
        ids_in(&mut filter, "c.network_key", networks, true);
    }
    for (column, id) in [("c.network_key", &f.network_id), ("c.host_key", &f.host_id)] {
        if let Some(id) = id {
            filter.clause(&format!("{column} = {ID_NUMBER}"), vec![key(id)]);
        }
    }
    filter
        .eq_opt("c.actor_id", f.actor_id.clone())
        .eq_opt("c.request_id", f.request_id.clone())
        .eq_opt("c.action", f.action.map(str::to_string));
    if let Some(service) = &f.service_id {
        filter.clause(
            &format!("(c.service_key = {ID_NUMBER} OR c.entity_key = ?)"),
            vec![key(service), key(service)],
        );
    }
    if !f.entity_types.is_empty() {
        filter.in_ids("c.entity_type", &f.entity_types);
    }
    if !f.entity_ids.is_empty() {
        ids_in(&mut filter, "c.entity_key", &f.entity_ids, false);
    }
    if let Some(since) = &f.since {
        filter.clause("c.time >= ?", vec![SqlValue::Text(since.clone())]);
    }
    if let Some(until) = &f.until {
        filter.clause("c.time < ?", vec![SqlValue::Text(until.clone())]);
    }
    for hidden in &f.hidden_types {
        filter.clause(
            "c.entity_type != ?",
            vec![SqlValue::Text(hidden.to_string())],
        );
    }
    let (mut entries, total) = paged(
        conn,
        COLUMNS,
        "changes c",
        &filter,
        "c.seq DESC",
        page,
        from_row,
    )?;
    let mut shapes = Shapes::default();
    for e in &mut entries {
        unfold(conn, &mut shapes, e)?;
    }
    Ok((entries, total))
}

/// `column` is one of `ids`: a stored id (`key`), or with `numbered` a network, host or service
/// number (`id_number`).
fn ids_in(filter: &mut Filter, column: &str, ids: &[String], numbered: bool) {
    if ids.is_empty() {
        filter.clause("0", Vec::new());
        return;
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let list = if numbered {
        format!("SELECT n FROM journal_ids WHERE key IN ({marks})")
    } else {
        marks
    };
    filter.clause(
        &format!("{column} IN ({list})"),
        ids.iter().map(|id| key(id)).collect(),
    );
}

/// Forgets journal entries and closed versions that ended before `cutoff` (a version ends at
/// its entry's time and has its seq, so both go together). Live rows stay, and so do the
/// entries an enabled webhook has yet to look at (the journal is their outbox), with the
/// versions their images are folded onto. Deletes in small transactions, so
/// that a large first prune never holds writers up for long.
pub fn prune_before(conn: &Connection, cutoff: &str) -> rusqlite::Result<usize> {
    const BATCH: usize = 2_000;
    let mut removed = 0;
    let unsent =
        "seq <= (SELECT coalesce(min(cursor), 9223372036854775807) FROM webhooks WHERE enabled = 1)";
    let versions = super::versions::VERSION_TABLES.iter().map(|table| {
        format!(
            "DELETE FROM {table} WHERE rowid IN \
             (SELECT rowid FROM {table} WHERE valid_to < ?1 AND {unsent} LIMIT {BATCH})"
        )
    });
    // Entries end at their write's instant; a write goes with its last entry.
    let journal = format!(
        "DELETE FROM journal WHERE seq IN \
         (SELECT seq FROM changes WHERE time < ?1 AND {unsent} LIMIT {BATCH})"
    );
    for sql in versions.chain([journal]) {
        loop {
            let n = conn.execute(&sql, [cutoff])?;
            removed += n;
            if n < BATCH {
                break;
            }
        }
    }
    conn.execute(
        "DELETE FROM journal_writes
         WHERE time < ?1 AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.write = journal_writes.seq)",
        [cutoff],
    )?;
    // The whole `after` of a live state whose entry went with the retention goes too.
    conn.execute(
        "DELETE FROM journal_open_afters
         WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.seq = journal_open_afters.seq)",
        [],
    )?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(entries: usize) -> (Connection, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("portolan-prune-{}.db", crate::domain::new_id()));
        crate::db::migrate(&path).expect("migrated");
        let conn = Connection::open(&path).expect("opened");
        for i in 1..=entries {
            conn.execute(
                "INSERT INTO changes (seq, id, time, action, entity_type, entity_id, actor_type)
                 VALUES (?, ?, '2020-01-01T00:00:00Z', 'create', 'tag', 't', 'system')",
                params![i as i64, format!("entry-{i}")],
            )
            .expect("entry");
        }
        (conn, path)
    }

    fn hook(conn: &Connection, enabled: bool, cursor: i64) {
        conn.execute(
            "INSERT INTO webhooks (id, name, url, events, network_ids, format, enabled, cursor,
                 created_at, updated_at)
             VALUES (?, 'h', 'http://127.0.0.1:1/', '[\"*\"]', '[]', 'json', ?, ?, 'x', 'x')",
            params![crate::domain::new_id(), enabled, cursor],
        )
        .expect("hook");
    }

    fn left(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT seq FROM changes ORDER BY seq")
            .expect("sql");
        let seqs = stmt.query_map([], |r| r.get(0)).expect("rows");
        seqs.collect::<rusqlite::Result<_>>().expect("seqs")
    }

    #[test]
    fn retention_keeps_the_entries_an_enabled_hook_has_not_looked_at() {
        let (conn, path) = journal(5);
        hook(&conn, true, 2);
        hook(&conn, false, 0);
        assert_eq!(
            prune_before(&conn, "2021-01-01T00:00:00Z").expect("pruned"),
            2
        );
        assert_eq!(left(&conn), vec![3, 4, 5]);
        conn.execute("UPDATE webhooks SET cursor = 5", [])
            .expect("moved");
        prune_before(&conn, "2021-01-01T00:00:00Z").expect("pruned");
        assert!(left(&conn).is_empty());
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn without_enabled_hooks_retention_prunes_by_time_alone() {
        let (conn, path) = journal(3);
        hook(&conn, false, 0);
        assert_eq!(
            prune_before(&conn, "2021-01-01T00:00:00Z").expect("pruned"),
            3
        );
        assert_eq!(
            prune_before(&conn, "2019-01-01T00:00:00Z").expect("pruned"),
            0
        );
        let _ = std::fs::remove_file(path);
    }
}
