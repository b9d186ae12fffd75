//! A bounded in-memory cache for what never changes once computed: results keyed by a
//! changeset id (history from it, its diff, a tree or file in it, annotations), and ref lists
//! keyed by a fingerprint of the repository's refs on disk.
//!
//! Two generations approximate least-recently-used eviction: entries live in `current`; when
//! it is full it becomes `previous` (whose entries are dropped unless used again).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<String, Value>,
    previous: HashMap<String, Value>,
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
    /// A cache holding about `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            inner: Mutex::new(Generations::default()),
        }
    }

    pub fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let value = match g.current.get(key) {
            Some(v) => v.clone(),
            None => {
                let v = g.previous.remove(key)?;
                self.insert_locked(&mut g, key.to_owned(), v.clone());
                v
            }
        };
        value.downcast::<T>().ok()
    }

    pub fn put<T: Any + Send + Sync>(&self, key: String, value: Arc<T>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.insert_locked(&mut g, key, value);
    }

    fn insert_locked(&self, g: &mut Generations, key: String, value: Value) {
        if g.current.len() >= self.capacity / 2 {
            g.previous = std::mem::take(&mut g.current);
        }
        g.current.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recent_entries_and_drops_old_ones() {
        let c = Cache::new(4);
        c.put("a".into(), Arc::new(1u32));
        c.put("b".into(), Arc::new(2u32));
        assert_eq!(c.get::<u32>("a").as_deref(), Some(&1));
        c.put("c".into(), Arc::new(3u32));
        c.put("d".into(), Arc::new(4u32));
        c.put("e".into(), Arc::new(5u32));
        assert!(c.get::<u32>("e").is_some());
        assert!(c.get::<u32>("b").is_none(), "old and unused: dropped");
        assert!(c.get::<String>("e").is_none(), "wrong type is a miss");
    }
}
