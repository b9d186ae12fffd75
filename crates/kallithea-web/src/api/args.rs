//! A method's arguments: which it takes and which are required (Kallithea's messages for
//! missing and unknown ones), and typed access with a sentence for a wrong type.

use serde_json::{Map, Value};

/// The arguments of one call, checked against the method's list.
pub struct Args {
    map: Map<String, Value>,
}

/// One declared argument: its name and whether it must be given.
pub type Spec = (&'static str, bool);

impl Args {
    /// Checks presence: every required one given, nothing unknown.
    pub fn check(map: Map<String, Value>, spec: &[Spec]) -> Result<Self, String> {
        for (name, required) in spec {
            if *required && !map.contains_key(*name) {
                return Err(format!("Missing non optional `{name}` arg in JSON DATA"));
            }
        }
        let mut unknown: Vec<&String> = map
            .keys()
            .filter(|k| !spec.iter().any(|(n, _)| n == k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            let names: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
            return Err(format!("Unknown {} arg in JSON DATA", names.join(", ")));
        }
        Ok(Self { map })
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    /// A string argument (`None` when absent or null).
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, String> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{name}` must be a string")),
        }
    }

    pub fn str(&self, name: &str) -> Result<String, String> {
        self.opt_str(name)?
            .ok_or_else(|| format!("`{name}` must be a string"))
    }

    /// An id-or-name argument (`repoid`, `userid`, ...): a number or a string.
    pub fn id_or_name(&self, name: &str) -> Result<String, String> {
        match self.map.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.to_string()),
            _ => Err(format!("`{name}` must be a name or a numeric id")),
        }
    }

    pub fn opt_id_or_name(&self, name: &str) -> Result<Option<String>, String> {
        if self.has(name) {
            self.id_or_name(name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A boolean argument (Kallithea's clients send true/false; "true"/"false" strings are
    /// accepted too).
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, String> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(format!("`{name}` must be true or false")),
        }
    }

    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, String> {
        Ok(self.opt_bool(name)?.unwrap_or(default))
    }

    /// A non-negative whole number.
    pub fn opt_count(&self, name: &str) -> Result<Option<u64>, String> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Value::String(s)) if s.trim().parse::<u64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(_) => Err(format!("`{name}` must be a whole number")),
        }
    }
}
