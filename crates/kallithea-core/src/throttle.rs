//! Sign-in throttling: failed attempts counted per account and per client address within a
//! window; past the limit, further attempts are refused until the window passes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn new(limit: u32, window_secs: u64) -> Self {
        Self {
            limit,
            window: Duration::from_secs(window_secs),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, addr: &str) -> [String; 2] {
        [format!("u:{}", account.to_lowercase()), format!("a:{addr}")]
    }

    /// True when either the account or the address has used up its attempts.
    pub fn is_blocked(&self, account: &str, addr: &str) -> bool {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(account, addr).iter().any(|k| {
            map.get(k).is_some_and(|(n, since)| {
                *n >= self.limit && now.duration_since(*since) < self.window
            })
        })
    }

    pub fn record_failure(&self, account: &str, addr: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        }
        for k in Self::keys(account, addr) {
            let e = map.entry(k).or_insert((0, now));
            if now.duration_since(e.1) >= self.window {
                *e = (0, now);
            }
            e.0 += 1;
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("u:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_account_and_address() {
        let t = LoginThrottle::new(3, 60);
        for _ in 0..3 {
            assert!(!t.is_blocked("bob", "1.2.3.4"));
            t.record_failure("bob", "1.2.3.4");
        }
        assert!(t.is_blocked("bob", "9.9.9.9"), "account limit");
        assert!(t.is_blocked("alice", "1.2.3.4"), "address limit");
        assert!(!t.is_blocked("alice", "5.5.5.5"));
    }
}
