//! kallithea-web
