//! kallithea-core
