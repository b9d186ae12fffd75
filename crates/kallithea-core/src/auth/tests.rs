use super::container::clean_username;
use super::*;

fn container_settings(pairs: &[(&str, &str)]) -> PluginSettings {
    let mut cfg = AuthConfig::default();
    for (k, v) in pairs {
        cfg.stored
            .insert(format!("auth_container_{k}"), (*v).to_owned());
    }
    cfg.settings_of(&Container)
}

fn headers(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn wsgi_names_become_header_names() {
    assert_eq!(header_name("REMOTE_USER"), "remote-user");
    assert_eq!(header_name("HTTP_X_FORWARDED_USER"), "x-forwarded-user");
    assert_eq!(header_name("X-Forwarded-User"), "x-forwarded-user");
    assert_eq!(header_name(" http_x_remote_user "), "x-remote-user");
    assert_eq!(header_name("HTTP-Foo"), "http-foo");
}

#[test]
fn clean_username_drops_domain_and_realm() {
    assert_eq!(clean_username("CORP\\bob"), "bob");
    assert_eq!(clean_username("bob@EXAMPLE.COM"), "bob");
    assert_eq!(clean_username("A\\B\\bob@x@y"), "bob");
    assert_eq!(clean_username("bob"), "bob");
    assert_eq!(clean_username("CORP\\"), "");
}

#[test]
fn container_reads_the_configured_header() {
    let s = container_settings(&[]);
    let got = Container.identify(&s, &headers(&[("Remote-User", "CORP\\Bob")]));
    assert_eq!(got.unwrap().username, "Bob");
    // No fallback by default: X-Forwarded-User is not read.
    assert!(
        Container
            .identify(&s, &headers(&[("X-Forwarded-User", "mallory")]))
            .is_none()
    );
    // Empty values sign nobody in.
    assert!(
        Container
            .identify(&s, &headers(&[("Remote-User", "  ")]))
            .is_none()
    );
    assert!(
        Container
            .identify(&s, &headers(&[("Remote-User", "CORP\\")]))
            .is_none()
    );
}

#[test]
fn container_fallback_cleaning_and_profile_headers() {
    let s = container_settings(&[
        ("header", "HTTP_X_AUTH_USER"),
        ("fallback_header", "HTTP_X_FORWARDED_USER"),
        ("clean_username", "False"),
        ("email_header", "HTTP_X_EMAIL"),
    ]);
    let got = Container
        .identify(
            &s,
            &headers(&[
                ("X-Forwarded-User", "bob@REALM"),
                ("X-Email", "bob@example.com"),
            ]),
        )
        .unwrap();
    assert_eq!(got.username, "bob@REALM");
    assert_eq!(got.email.as_deref(), Some("bob@example.com"));
    assert_eq!(got.firstname, None);
    assert_eq!(
        Container.identity_headers(&s),
        vec!["x-auth-user", "x-forwarded-user", "x-email"]
    );
}

#[test]
fn plugin_names_and_aliases() {
    assert_eq!(find("container").unwrap().name(), "container");
    assert_eq!(
        find("kallithea.lib.auth_modules.auth_container")
            .unwrap()
            .name(),
        "container"
    );
    assert_eq!(
        find("rhodecode.lib.auth_modules.auth_internal")
            .unwrap()
            .name(),
        "internal"
    );
    assert!(
        find("kallithea.lib.auth_modules.auth_ldap")
            .unwrap_err()
            .message
            .contains("not available")
    );
    assert!(
        find("evil")
            .unwrap_err()
            .message
            .contains("no authentication plugin")
    );
}

#[test]
fn header_settings_are_checked() {
    assert_eq!(
        check_header_setting("Username header", " REMOTE_USER ", true).unwrap(),
        "REMOTE_USER"
    );
    assert!(check_header_setting("Username header", "", true).is_err());
    assert_eq!(check_header_setting("Email header", "", false).unwrap(), "");
    assert!(check_header_setting("h", "X-Foo: bar", false).is_err());
    assert!(check_header_setting("h", "HTTP_COOKIE", false).is_err());
    assert!(check_header_setting("h", "Authorization", false).is_err());
}

#[test]
fn enabled_defaults_on_for_listed_plugins() {
    let cfg = AuthConfig::default();
    assert!(cfg.is_active("internal"));
    assert!(!cfg.is_active("container"));
    let mut cfg = AuthConfig {
        listed: vec![&Internal, &Container],
        stored: HashMap::new(),
    };
    assert!(cfg.is_active("container"));
    assert_eq!(cfg.request_plugins().len(), 1);
    cfg.stored
        .insert("auth_container_enabled".into(), "False".into());
    assert!(!cfg.is_active("container"));
    assert!(cfg.request_plugins().is_empty());
}
