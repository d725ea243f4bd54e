//! Live rows written as the API's JSON straight from SQLite's columns, without a struct or a
//! `String` per field: the read path of a live service, a host with its children and pages of
//! services. Each writer mirrors its
//! record's `Serialize` output byte for byte (field order, nulls, numbers, stored JSON printed
//! the way `serde_json::Value` prints it), which `tests/api/read_paths.rs` checks against the
//! typed path; a profile of `GET /hosts/{id}` showed the typed path spending more on building,
//! grouping and dropping records than SQLite spent finding their rows.

use std::collections::HashMap;
use std::ops::Range;

use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::{Connection, Row};

/// A text column that must not be null, borrowed from the row.
pub fn text_at<'r>(r: &'r Row, i: usize) -> rusqlite::Result<&'r str> {
    r.get_ref(i)?.as_str().map_err(|e| conversion(i, e))
}

/// One JSON object being written into `out`.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

fn conversion(i: usize, e: FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// `s` as a JSON string.
pub fn string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("writing to a Vec cannot fail");
}

impl<'a> Obj<'a> {
    pub fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Starts the member `key` (a literal of ours: nothing to escape); its value comes next.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A text column, or null.
    pub fn text(&mut self, key: &str, r: &Row, i: usize) -> rusqlite::Result<()> {
        let value = r
            .get_ref(i)?
            .as_str_or_null()
            .map_err(|e| conversion(i, e))?;
        let out = self.key(key);
        match value {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
        Ok(())
    }

    pub fn str(&mut self, key: &str, value: &str) {
        string(self.key(key), value);
    }

    pub fn int(&mut self, key: &str, r: &Row, i: usize) -> rusqlite::Result<()> {
        let n: i64 = r.get(i)?;
        let out = self.key(key);
        out.extend_from_slice(n.to_string().as_bytes());
        Ok(())
    }

    /// An integer column read as a boolean, null read as false (SQLite's booleans).
    pub fn bool(&mut self, key: &str, r: &Row, i: usize) -> rusqlite::Result<()> {
        let value = match r.get_ref(i)? {
            ValueRef::Null => false,
            other => other.as_i64().map_err(|e| conversion(i, e))? != 0,
        };
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    /// A column of stored JSON text, printed as `serde_json::Value` prints it; null stays null.
    pub fn json(&mut self, key: &str, r: &Row, i: usize) -> rusqlite::Result<()> {
        let value = match r
            .get_ref(i)?
            .as_str_or_null()
            .map_err(|e| conversion(i, e))?
        {
            Some(text) => Some(
                serde_json::from_str::<serde_json::Value>(text)
                    .map_err(|e| conversion(i, FromSqlError::Other(Box::new(e))))?,
            ),
            None => None,
        };
        let out = self.key(key);
        serde_json::to_writer(out, &value).expect("writing to a Vec cannot fail");
        Ok(())
    }

    /// JSON already written elsewhere (a nested array).
    pub fn raw(&mut self, key: &str, json: &[u8]) {
        self.key(key).extend_from_slice(json);
    }

    /// `Temporal`'s fields of a live row whose temporal columns start at `start` (the layout
    /// `versions::extra` gives live reads).
    pub fn temporal_live(&mut self, r: &Row, start: usize) -> rusqlite::Result<()> {
        self.text("valid_from", r, start)?;
        self.raw("valid_to", b"null");
        self.raw("lineage_id", b"null");
        self.text("first_discovery_id", r, start + 2)?;
        self.text("last_discovery_id", r, start + 3)?;
        self.text("last_seen_at", r, start + 1)?;
        self.bool("stale", r, start + 7)
    }

    pub fn close(self) {
        self.out.push(b'}');
    }
}

/// Objects written one by one, as one JSON array.
pub fn join(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

/// JSON arrays of several owners' items (a host's services' bindings, say) written one after
/// the other into one buffer, each owner's found again by its id.
#[derive(Default)]
pub struct Groups {
    buf: Vec<u8>,
    spans: HashMap<String, Range<usize>>,
    current: Option<(String, usize)>,
}

impl Groups {
    /// Where the next item of `owner` goes; items must come grouped by owner.
    pub fn item(&mut self, owner: &str) -> &mut Vec<u8> {
        match &self.current {
            Some((id, _)) if id == owner => self.buf.push(b','),
            _ => {
                self.finish();
                self.current = Some((owner.to_string(), self.buf.len()));
            }
        }
        &mut self.buf
    }

    fn finish(&mut self) {
        if let Some((id, start)) = self.current.take() {
            self.spans.insert(id, start..self.buf.len());
        }
    }

    /// Ends the last group; the arrays can be read from now on.
    pub fn done(mut self) -> Self {
        self.finish();
        self
    }

    /// The array of `owner`'s items, `[]` if it has none.
    pub fn array(&self, owner: &str, out: &mut Vec<u8>) {
        out.push(b'[');
        if let Some(span) = self.spans.get(owner) {
            out.extend_from_slice(&self.buf[span.clone()]);
        }
        out.push(b']');
    }
}

/// The tag id of a row `(entity_id, tag_id)`, as JSON.
pub fn tag_id(out: &mut Vec<u8>, r: &Row) -> rusqlite::Result<()> {
    string(out, text_at(r, 1)?);
    Ok(())
}

/// The rows of `sql` (one parameter) as a JSON array, each written by `write`.
pub fn array(
    conn: &Connection,
    sql: &str,
    param: &str,
    out: &mut Vec<u8>,
    write: impl Fn(&mut Vec<u8>, &Row) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([param])?;
    out.push(b'[');
    let mut first = true;
    while let Some(r) = rows.next()? {
        if !first {
            out.push(b',');
        }
        first = false;
        write(out, r)?;
    }
    out.push(b']');
    Ok(())
}

/// The rows of `sql` (one parameter; rows grouped by the owner in column `owner`), each
/// written by `write` into its owner's array.
pub fn grouped(
    conn: &Connection,
    sql: &str,
    param: &str,
    owner: usize,
    write: impl Fn(&mut Vec<u8>, &Row) -> rusqlite::Result<()>,
) -> rusqlite::Result<Groups> {
    let mut groups = Groups::default();
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([param])?;
    while let Some(r) = rows.next()? {
        write(groups.item(text_at(r, owner)?), r)?;
    }
    Ok(groups.done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_give_each_owner_its_items_in_order_and_an_empty_array_to_the_rest() {
        let mut g = Groups::default();
        g.item("a").extend_from_slice(b"1");
        g.item("a").extend_from_slice(b"2");
        g.item("b").extend_from_slice(b"3");
        let g = g.done();
        let array = |owner| {
            let mut out = Vec::new();
            g.array(owner, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(array("a"), "[1,2]");
        assert_eq!(array("b"), "[3]");
        assert_eq!(array("c"), "[]");
    }

    #[test]
    fn an_object_writes_its_members_with_commas_and_escapes() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut out = Vec::new();
        conn.query_row(
            "SELECT 'a\"b\\c' || char(10), NULL, 7, 1, '{\"x\": 1.50, \"y\": [true]}'",
            [],
            |r| {
                let mut o = Obj::open(&mut out);
                o.text("s", r, 0)?;
                o.text("n", r, 1)?;
                o.int("i", r, 2)?;
                o.bool("b", r, 3)?;
                o.json("j", r, 4)?;
                o.json("none", r, 1)?;
                o.close();
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"s":"a\"b\\c\n","n":null,"i":7,"b":true,"j":{"x":1.5,"y":[true]},"none":null}"#
        );
    }
}
