//! A form extractor whose refusals are our error page (400 with a sentence), not the
//! framework's plain-text rejection.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::{AppState, WebError};

/// `application/x-www-form-urlencoded` fields deserialised into `T`.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Self(v)),
            Err(e) => Err(WebError::new(
                kallithea_core::Error::invalid(format!(
                    "The form could not be read: {}.",
                    e.body_text().trim_end_matches('.')
                )),
                &state.web.prefix,
            )),
        }
    }
}
