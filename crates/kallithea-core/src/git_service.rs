//! Starting Git's smart-protocol services for an authorised request. The web layer frames
//! HTTP around them; the process itself is started by `kallithea-vcs`.

use kallithea_model::PermLevel;
pub use kallithea_vcs::git::Service;

use crate::repo::RepoAccess;
use crate::{Result, Services};

/// Starts `git <service> --stateless-rpc` on the repository `access` proves the actor may use:
/// read for upload-pack, write for receive-pack.
pub fn spawn(
    svc: &Services,
    access: &RepoAccess,
    service: Service,
    advertise: bool,
    protocol: Option<&str>,
    env: &[(&str, String)],
) -> Result<tokio::process::Child> {
    access.require(if service.is_write() {
        PermLevel::Write
    } else {
        PermLevel::Read
    })?;
    let path = svc.store.path(&access.name()?);
    if !path.is_dir() {
        return Err(crate::Error::not_found(
            "The repository's folder is missing on the server: an administrator must restore it (or run repo-scan).",
        ));
    }
    Ok(kallithea_vcs::git::spawn_service(
        &path, service, advertise, protocol, env,
    )?)
}
