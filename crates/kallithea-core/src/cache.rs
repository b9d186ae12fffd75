//! A bounded in-memory cache for what never changes once computed: results keyed by a
//! changeset id (history from it, its diff, a tree or file in it, annotations), and ref lists
//! keyed by a fingerprint of the repository's refs on disk.
//!
//! Two generations approximate least-recently-used eviction: entries live in `current`; when
//! it holds half the entries or half the bytes allowed it becomes `previous` (whose entries
//! are dropped unless used again). An entry's bytes are estimated from the length of its `Debug`
//! text (counted, not kept), once, when it is stored.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Value = Arc<dyn Any + Send + Sync>;

/// The length of a value's `Debug` text, without building it.
fn debug_len(value: &dyn std::fmt::Debug) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = std::fmt::write(&mut c, format_args!("{value:?}"));
    c.0
}

#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<String, (Value, usize)>,
    current_bytes: usize,
    previous: HashMap<String, (Value, usize)>,
}

impl std::fmt::Debug for Generations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} + {} entries",
            self.current.len(),
            self.previous.len()
        )
    }
}

impl Cache {
    /// A cache holding about `capacity` entries and `max_bytes` bytes.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            max_bytes,
            inner: Mutex::new(Generations::default()),
        }
    }

    pub fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let value = match g.current.get(key) {
            Some((v, _)) => v.clone(),
            None => {
                let (v, bytes) = g.previous.remove(key)?;
                self.insert_locked(&mut g, key.to_owned(), v.clone(), bytes);
                v
            }
        };
        value.downcast::<T>().ok()
    }

    pub fn put<T: Any + Send + Sync + std::fmt::Debug>(&self, key: String, value: Arc<T>) {
        let bytes = debug_len(&*value);
        self.put_sized(key, value, bytes);
    }

    /// [`Cache::put`] with the value's size in bytes given by the caller (for large values
    /// whose `Debug` text would take a while to count).
    pub fn put_sized<T: Any + Send + Sync>(&self, key: String, value: Arc<T>, bytes: usize) {
        let bytes = bytes + key.len() + 64;
        if bytes > self.max_bytes / 4 {
            return; // Too big to be worth keeping.
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.insert_locked(&mut g, key, value, bytes);
    }

    fn insert_locked(&self, g: &mut Generations, key: String, value: Value, bytes: usize) {
        if g.current.len() >= self.capacity / 2 || g.current_bytes + bytes > self.max_bytes / 2 {
            g.previous = std::mem::take(&mut g.current);
            g.current_bytes = 0;
        }
        g.current_bytes += bytes;
        if let Some((_, old)) = g.current.insert(key, (value, bytes)) {
            g.current_bytes -= old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recent_entries_and_drops_old_ones() {
        let c = Cache::new(4, 1 << 20);
        c.put("a".into(), Arc::new(1u32));
        c.put("b".into(), Arc::new(2u32));
        assert_eq!(c.get::<u32>("a").as_deref(), Some(&1));
        c.put("c".into(), Arc::new(3u32));
        c.put("d".into(), Arc::new(4u32));
        c.put("e".into(), Arc::new(5u32));
        assert!(c.get::<u32>("e").is_some());
        assert!(c.get::<u32>("b").is_none(), "old and unused: dropped");
        assert!(c.get::<String>("e").is_none(), "wrong type is a miss");
        let big = Cache::new(1000, 4000);
        big.put("huge".into(), Arc::new("x".repeat(2000)));
        assert!(big.get::<String>("huge").is_none(), "too big to keep");
        for i in 0..10 {
            big.put(format!("k{i}"), Arc::new("y".repeat(500)));
        }
        assert!(big.get::<String>("k0").is_none(), "bytes evict old entries");
        assert!(big.get::<String>("k9").is_some());
    }
}
