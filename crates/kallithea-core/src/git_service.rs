//! Starting Git's smart-protocol services for an already-authorised request. The web layer
//! frames HTTP around them; the process itself is started by `kallithea-vcs`.

use std::path::Path;

pub use kallithea_vcs::git::Service;

use crate::Result;

/// Starts `git <service> --stateless-rpc` on a repository; see [`kallithea_vcs::git::spawn_service`].
pub fn spawn(
    repo: &Path,
    service: Service,
    advertise: bool,
    protocol: Option<&str>,
    env: &[(&str, String)],
) -> Result<tokio::process::Child> {
    Ok(kallithea_vcs::git::spawn_service(
        repo, service, advertise, protocol, env,
    )?)
}
