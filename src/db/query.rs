//! Building blocks for list queries: filters, ordering and pagination, with a constant number of
//! statements per page. Id lists are passed as one JSON array parameter (`json_each`), so the SQL
//! text stays the same whatever their length and the statement cache keeps working.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};

use crate::error::ApiResult;

/// Which page of a list the client asked for. `limit == None` means all rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u64>,
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: Some(50),
            offset: 0,
        }
    }
}

pub use crate::domain::principal::Scope;

/// WHERE clauses with their parameters, in order.
#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    params: Vec<Value>,
    /// Parameters of the `FROM` text (an as-of source), bound before the clauses' own.
    source_params: Vec<Value>,
}

pub fn json_ids(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("a list of strings serialises")
}

/// `column` among `ids`, with its one parameter. A single id (an object's children, the most
/// common case) is a plain equality: the planner seeks it directly, without parsing a JSON
/// list into a temporary table. Two SQL texts at most, so the statement cache still holds.
pub fn in_ids_sql(column: &str, ids: &[String]) -> (String, String) {
    match ids {
        [one] => (format!("{column} = ?"), one.clone()),
        _ => (
            format!("{column} IN (SELECT value FROM json_each(?))"),
            json_ids(ids),
        ),
    }
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A filter over a `FROM` text that binds `params` of its own (see `versions::AsOf::source`).
    pub fn over_source(params: Vec<Value>) -> Self {
        Filter {
            source_params: params,
            ..Self::default()
        }
    }

    fn all_params(&self) -> impl Iterator<Item = &Value> {
        self.source_params.iter().chain(self.params.iter())
    }

    pub fn eq(&mut self, column: &str, value: impl Into<Value>) -> &mut Self {
        self.clauses.push(format!("{column} = ?"));
        self.params.push(value.into());
        self
    }

    pub fn eq_opt(&mut self, column: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.eq(column, v);
        }
        self
    }

    pub fn in_ids(&mut self, column: &str, ids: &[String]) -> &mut Self {
        let (clause, param) = in_ids_sql(column, ids);
        self.clauses.push(clause);
        self.params.push(Value::Text(param));
        self
    }

    /// Restricts to the key's networks.
    pub fn scope(&mut self, column: &str, scope: &Scope) -> &mut Self {
        if let Some(networks) = scope {
            self.in_ids(column, networks);
        }
        self
    }

    /// A clause with its own placeholders, e.g. an EXISTS over a join table.
    /// `sql` (a boolean expression) must be `value`, when one is given.
    pub fn is(&mut self, sql: &str, value: Option<bool>) -> &mut Self {
        match value {
            Some(v) => self.clause(&format!("{sql} = ?"), vec![Value::Integer(i64::from(v))]),
            None => self,
        }
    }

    pub fn clause(&mut self, sql: &str, params: Vec<Value>) -> &mut Self {
        self.clauses.push(sql.to_string());
        self.params.extend(params);
        self
    }

    /// Case-insensitive substring match on any of `columns`.
    pub fn search(&mut self, columns: &[&str], q: Option<&str>) -> &mut Self {
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = format!("%{}%", escaped.to_lowercase());
            let ors: Vec<String> = columns
                .iter()
                .map(|c| format!("lower(coalesce({c}, '')) LIKE ? ESCAPE '\\'"))
                .collect();
            self.clauses.push(format!("({})", ors.join(" OR ")));
            for _ in columns {
                self.params.push(Value::Text(pattern.clone()));
            }
        }
        self
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Every row of `SELECT {columns} FROM {from} WHERE ... ORDER BY {order_by}`, mapped.
pub fn all<T>(
    conn: &Connection,
    columns: &str,
    from: &str,
    filter: &Filter,
    order_by: &str,
    map: impl Fn(&Row) -> rusqlite::Result<T>,
) -> ApiResult<Vec<T>> {
    let sql = format!(
        "SELECT {columns} FROM {from}{} ORDER BY {order_by}",
        filter.where_sql()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(filter.all_params()), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(rows)
}

/// Runs the page query for `SELECT {columns} FROM {from}` and maps each row, and the count
/// query only when the page does not already tell the total (a first page that is not full).
pub fn paged<T>(
    conn: &Connection,
    columns: &str,
    from: &str,
    filter: &Filter,
    order_by: &str,
    page: PageRequest,
    map: impl Fn(&Row) -> rusqlite::Result<T>,
) -> ApiResult<(Vec<T>, u64)> {
    let where_sql = filter.where_sql();
    let limit = page.limit.map(|l| l as i64).unwrap_or(-1);
    let sql = format!(
        "SELECT {columns} FROM {from}{where_sql} ORDER BY {order_by} LIMIT {limit} OFFSET {}",
        page.offset
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(filter.all_params()), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    let page_is_short = page.limit.is_none_or(|l| (rows.len() as u64) < l);
    if page.offset == 0 && page_is_short {
        let total = rows.len() as u64;
        return Ok((rows, total));
    }
    let count_sql = format!("SELECT count(*) FROM {from}{where_sql}");
    let total: i64 = conn
        .prepare_cached(&count_sql)?
        .query_row(params_from_iter(filter.all_params()), |r| r.get(0))?;
    Ok((rows, total as u64))
}

/// `ORDER BY` text for a whitelisted column and direction, with the id as tie-breaker.
pub fn order_sql(table_alias: &str, column: &str, descending: bool) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    if column == "created_at" {
        format!("{table_alias}.created_at {dir}, {table_alias}.id {dir}")
    } else {
        format!(
            "{table_alias}.{column} {dir}, {table_alias}.created_at {dir}, {table_alias}.id {dir}"
        )
    }
}
