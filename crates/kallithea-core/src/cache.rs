//! A bounded in-memory cache for what never changes once computed: results keyed by a
//! changeset id (history from it, its diff, a tree or file in it, annotations), and ref lists
//! keyed by a fingerprint of the repository's refs on disk.
//!
//! Two generations approximate least-recently-used eviction: entries live in `current`; when
//! it holds half the entries or half the bytes allowed it becomes `previous` (whose entries
//! are dropped unless used again). An entry's bytes are estimated once, when it is stored, by
//! [`Weigh`]: the heap capacity of the strings and buffers it holds plus its fixed size.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kallithea_vcs::read::{
    AnnotatedLine, Changeset, ChangesetId, FileChange, FileContent, LastChange, Node, PathItem,
    PathList, Person, RefDetails, RefInfo, TreeEntry,
};

type Value = Arc<dyn Any + Send + Sync>;

/// About how many bytes of memory a value holds: its own size and what it owns on the heap.
/// Counted by walking the value, never by printing it (a file's bytes printed as a list of
/// numbers took milliseconds).
pub trait Weigh {
    fn weigh(&self) -> usize;
}

macro_rules! weigh_by_size {
    ($($t:ty),*) => {$(
        impl Weigh for $t {
            fn weigh(&self) -> usize {
                std::mem::size_of::<Self>()
            }
        }
    )*};
}
weigh_by_size!(bool, u8, u32, u64, i64, usize);

/// Strings and byte buffers count what they hold on the heap (a truncated buffer keeps its
/// capacity).
impl Weigh for String {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.capacity()
    }
}

impl Weigh for Vec<u8> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.capacity()
    }
}

impl<T: Weigh> Weigh for [T] {
    fn weigh(&self) -> usize {
        self.iter().map(Weigh::weigh).sum()
    }
}

/// A vector of anything but bytes (`Vec<u8>` is counted by its capacity, not byte by byte).
impl<T: Weigh + NotByte> Weigh for Vec<T> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.as_slice().weigh()
    }
}

/// Every weighed type except `u8`, so that `Vec<u8>` has its own fast rule.
pub trait NotByte {}

impl<T: Weigh> Weigh for Option<T> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.as_ref().map_or(0, |v| v.weigh())
    }
}

impl<T: Weigh + ?Sized> Weigh for Arc<T> {
    fn weigh(&self) -> usize {
        (**self).weigh()
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh()
    }
}

impl<A: Weigh, B: Weigh, C: Weigh> Weigh for (A, B, C) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh() + self.2.weigh()
    }
}

impl<K: Weigh, V: Weigh> Weigh for HashMap<K, V> {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .iter()
                .map(|(k, v)| k.weigh() + v.weigh() + 8)
                .sum::<usize>()
    }
}

/// Weighs a struct as its own size plus what the named fields own beyond theirs (name every
/// field that owns memory).
#[macro_export]
macro_rules! weigh_fields {
    ($($t:ty { $($field:ident),* })*) => {$(
        impl $crate::cache::Weigh for $t {
            fn weigh(&self) -> usize {
                std::mem::size_of::<Self>()
                    $(+ $crate::cache::Weigh::weigh(&self.$field)
                        .saturating_sub(std::mem::size_of_val(&self.$field)))*
            }
        }
        impl $crate::cache::NotByte for $t {}
    )*};
}

impl NotByte for String {}
impl NotByte for ChangesetId {}
impl<T> NotByte for Vec<T> {}
impl<T> NotByte for Option<T> {}
impl<A, B> NotByte for (A, B) {}

impl Weigh for ChangesetId {
    fn weigh(&self) -> usize {
        self.0.weigh()
    }
}

crate::weigh_fields! {
    Person { name, email }
    Changeset { id, parents, author, author_offset, committer, message }
    RefInfo { name, target }
    RefDetails { info, summary }
    TreeEntry { name, object }
    FileContent { content_id, bytes }
    FileChange { path, old_path, patch, mode_change }
    AnnotatedLine { id, author, summary, text }
    LastChange { id, summary }
    PathItem { path }
    PathList { paths }
}

impl Weigh for Node {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                Node::Dir(entries) => entries.weigh(),
                Node::File(f) => f.weigh(),
                Node::Submodule => 0,
            }
    }
}
impl NotByte for Node {}

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

    pub fn put<T: Any + Send + Sync + Weigh>(&self, key: String, value: Arc<T>) {
        let bytes = value.weigh();
        self.put_sized(key, value, bytes);
    }

    /// [`Cache::put`] with the value's size in bytes given by the caller.
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

    #[test]
    fn values_weigh_what_they_hold() {
        let file = FileContent {
            content_id: "a".repeat(40),
            size: 1 << 20,
            bytes: vec![b'x'; 1 << 20],
            truncated: false,
            binary: false,
            symlink: false,
        };
        let w = Some(Node::File(file)).weigh();
        assert!((1 << 20) < w && w < (1 << 20) + 1024, "{w}");
        let person = Person {
            name: "n".repeat(10),
            email: "e".repeat(10),
        };
        let cs = Changeset {
            id: ChangesetId("c".repeat(40)),
            parents: vec![ChangesetId("p".repeat(40)); 2],
            author: person.clone(),
            author_time: 0,
            author_offset: "+0000".into(),
            committer: person,
            commit_time: 0,
            message: "m".repeat(1000),
        };
        let w = vec![cs; 100].weigh();
        // Per changeset: 1000 + 3 × 40 + 4 × 10 + 5 bytes of text, plus the structs.
        assert!(100 * 1165 < w && w < 100 * 1165 + 100 * 600, "{w}");
        let map: HashMap<String, Vec<String>> = [("k".to_owned(), vec!["v".repeat(100)])]
            .into_iter()
            .collect();
        assert!(map.weigh() > 100);
    }
}
