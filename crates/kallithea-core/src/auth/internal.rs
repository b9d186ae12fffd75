//! The `internal` plugin: user names and passwords kept in our own database. The checking
//! itself is `user::authenticate_password` (throttled, bounded hashing); this plugin being
//! active is what lets it run.

use super::{AuthPlugin, SettingSpec};

#[derive(Debug)]
pub struct Internal;

impl AuthPlugin for Internal {
    fn name(&self) -> &'static str {
        "internal"
    }
    fn settings(&self) -> &'static [SettingSpec] {
        &[]
    }
    fn checks_passwords(&self) -> bool {
        true
    }
}
