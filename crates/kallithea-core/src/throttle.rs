//! Sign-in throttling: failed attempts counted per account and per client address within a
//! window; past the limit, further attempts are refused until the window passes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many more attempts one client address gets than one account.
pub const ADDRESS_FACTOR: u32 = 5;

/// Too many failed attempts for the account or the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked;

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

    /// Checks and counts one attempt at once, so parallel attempts cannot all slip past the
    /// limit. `Err(Blocked)` when the account or the address has used up its attempts.
    /// A successful attempt is given back with [`LoginThrottle::succeeded`].
    pub fn begin_attempt(&self, account: &str, addr: &str) -> Result<(), Blocked> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        }
        let keys = Self::keys(account, addr);
        // An address (maybe a proxy or an office's NAT) gets five times an account's attempts.
        let limits = [self.limit, self.limit.saturating_mul(ADDRESS_FACTOR)];
        let blocked = keys.iter().zip(limits).any(|(k, limit)| {
            map.get(k)
                .is_some_and(|(n, since)| *n >= limit && now.duration_since(*since) < self.window)
        });
        if blocked {
            return Err(Blocked);
        }
        for k in keys {
            let e = map.entry(k).or_insert((0, now));
            if now.duration_since(e.1) >= self.window {
                *e = (0, now);
            }
            e.0 += 1;
        }
        Ok(())
    }

    /// The attempt begun for this account and address was right: forget the account's
    /// failures and give the address its attempt back.
    pub fn succeeded(&self, account: &str, addr: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let [account_key, addr_key] = Self::keys(account, addr);
        map.remove(&account_key);
        if let Some(e) = map.get_mut(&addr_key) {
            e.0 = e.0.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_account_and_address() {
        let t = LoginThrottle::new(3, 60);
        for _ in 0..3 {
            assert!(t.begin_attempt("bob", "1.2.3.4").is_ok());
        }
        assert!(t.begin_attempt("bob", "9.9.9.9").is_err(), "account limit");
        assert!(t.begin_attempt("alice", "5.5.5.5").is_ok());
        for i in 0..12 {
            assert!(
                t.begin_attempt(&format!("u{i}"), "1.2.3.4").is_ok(),
                "an address has 15 attempts"
            );
        }
        assert!(
            t.begin_attempt("carol", "1.2.3.4").is_err(),
            "address limit"
        );
    }

    #[test]
    fn success_gives_the_attempt_back() {
        let t = LoginThrottle::new(2, 60);
        for _ in 0..5 {
            assert!(t.begin_attempt("bob", "1.2.3.4").is_ok());
            t.succeeded("bob", "1.2.3.4");
        }
    }
}
