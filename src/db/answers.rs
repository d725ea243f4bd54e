//! Live answers kept between writes: the bytes of a hot read (a host with its children, a page
//! of services), reused until the database changes.
//!
//! Every write the server commits goes through `writer` (or `Db::write_blocking`), which calls
//! `changed` after its commit and before it answers anyone. An answer is stored with the
//! generation read *before* its read transaction began, so an answer read while a write
//! committed is never taken for newer than it is; it is served only while the generation is
//! still that one. A write that a client saw answered has therefore emptied the cache for every
//! read that client makes after it. Two things change answers without a write of this server,
//! and both are bounded by the answer's age (`FRESH_FOR`): a row turning `stale` with the
//! clock, and a command-line write beside a running server.
//!
//! Only live reads whose bytes do not depend on the caller are kept: the caller's scope is
//! checked on each hit (or is part of the key), and as-of reads are never cached.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an answer is served at most, writes or not.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Answers kept at most; past it the cache starts over (hot answers come back at once).
const MAX_ENTRIES: usize = 4_096;
/// Bytes of answers kept at most, likewise: a page of 50 hosts with their children is over a
/// megabyte at scale M, and without a budget a second of such pages held ~70 MB.
const MAX_BYTES: usize = 16 << 20;

/// The bytes an answer holds, for the cache's budget.
pub trait Weight {
    fn weight(&self) -> usize;
}

/// A page: its JSON, its count and its total.
impl Weight for (Vec<u8>, usize, u64) {
    fn weight(&self) -> usize {
        self.0.len()
    }
}

/// A single object's JSON and its network, or none.
impl Weight for Option<(Vec<u8>, Option<String>)> {
    fn weight(&self) -> usize {
        self.as_ref().map_or(0, |(json, network)| {
            json.len() + network.as_ref().map_or(0, String::len)
        })
    }
}

struct Entry {
    generation: u64,
    made: Instant,
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

#[derive(Default)]
pub struct Answers {
    generation: AtomicU64,
    entries: Mutex<Kept>,
}

/// The answers kept, all read under `generation`, and when the old ones were last let go.
#[derive(Default)]
struct Kept {
    generation: u64,
    swept: Option<Instant>,
    map: HashMap<String, Entry>,
    bytes: usize,
}

impl Answers {
    /// A write committed: no answer read before it is served again.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation to store an answer under; read before the read transaction begins.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The answer stored under `key`, if it is still current.
    pub fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let current = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.map.get(key)?;
        if entry.generation != current || entry.made.elapsed() > FRESH_FOR {
            return None;
        }
        entry.value.clone().downcast::<T>().ok()
    }

    /// Keeps `value`, read under `generation`, unless a write has committed since.
    pub fn put<T: Any + Send + Sync + Weight>(&self, key: String, generation: u64, value: Arc<T>) {
        let bytes = value.weight() + key.len();
        if generation != self.generation() || bytes > MAX_BYTES / 4 {
            return;
        }
        let mut kept = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Answers of an older generation, or past their age, are never served again: they go
        // at once rather than when the cache is full, so that memory holds live answers only
        // (pages of hosts with their children are large, and a page read once is not read again).
        if kept.generation != generation
            || kept.map.len() >= MAX_ENTRIES
            || kept.bytes + bytes > MAX_BYTES
        {
            kept.map.clear();
            kept.bytes = 0;
            kept.generation = generation;
        }
        if kept.swept.is_none_or(|at| at.elapsed() > FRESH_FOR) {
            kept.map.retain(|_, e| e.made.elapsed() <= FRESH_FOR);
            kept.bytes = kept.map.values().map(|e| e.bytes).sum();
            kept.swept = Some(Instant::now());
        }
        kept.bytes += bytes;
        if let Some(replaced) = kept.map.get(&key) {
            kept.bytes -= replaced.bytes;
        }
        kept.map.insert(
            key,
            Entry {
                generation,
                made: Instant::now(),
                value,
                bytes,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Weight for u32 {
        fn weight(&self) -> usize {
            4
        }
    }

    type Page = (Vec<u8>, usize, u64);

    #[test]
    fn the_bytes_kept_stay_within_the_budget() {
        let answers = Answers::default();
        let g = answers.generation();
        for i in 0..20 {
            answers.put(
                format!("page {i}"),
                g,
                Arc::new((vec![0u8; MAX_BYTES / 8], 50, 0)),
            );
            let kept = answers.entries.lock().unwrap();
            assert!(kept.bytes <= MAX_BYTES, "{} bytes kept", kept.bytes);
            assert_eq!(
                kept.bytes,
                kept.map.values().map(|e| e.bytes).sum::<usize>()
            );
        }
        assert!(answers.get::<Page>("page 19").is_some());
        answers.put(
            "huge".into(),
            g,
            Arc::new((vec![0u8; MAX_BYTES / 2], 50, 0)),
        );
        assert!(answers.get::<Page>("huge").is_none());
    }

    #[test]
    fn an_answer_is_served_until_a_write_commits() {
        let answers = Answers::default();
        let g = answers.generation();
        answers.put("a".into(), g, Arc::new(1u32));
        assert_eq!(answers.get::<u32>("a").as_deref(), Some(&1));
        answers.changed();
        assert_eq!(answers.get::<u32>("a"), None);
    }

    #[test]
    fn an_answer_read_while_a_write_committed_is_not_kept() {
        let answers = Answers::default();
        let g = answers.generation();
        answers.changed();
        answers.put("a".into(), g, Arc::new(1u32));
        assert_eq!(answers.get::<u32>("a"), None);
    }

    #[test]
    fn answers_of_an_older_generation_are_let_go_with_the_next_kept() {
        let answers = Answers::default();
        answers.put("a".into(), answers.generation(), Arc::new(1u32));
        answers.changed();
        answers.put("b".into(), answers.generation(), Arc::new(2u32));
        let kept = answers.entries.lock().unwrap();
        assert_eq!(kept.map.len(), 1);
        assert!(kept.map.contains_key("b"));
    }

    #[test]
    fn an_answer_of_another_type_is_a_miss() {
        let answers = Answers::default();
        answers.put("a".into(), answers.generation(), Arc::new(1u32));
        assert_eq!(answers.get::<Page>("a"), None);
    }
}
