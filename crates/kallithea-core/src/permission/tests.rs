//! Table-driven cases for [`repo_level`].

use super::*;
use PermLevel::{Admin, Read, Write};
const NONE: PermLevel = PermLevel::None;

const ALICE: UserId = UserId(10);
const BOB: UserId = UserId(11);

fn user(id: UserId) -> Actor {
    Actor::User {
        id,
        username: format!("u{}", id.0),
        admin: false,
    }
}

fn admin() -> Actor {
    Actor::User {
        id: UserId(2),
        username: "admin".into(),
        admin: true,
    }
}

struct Case {
    what: &'static str,
    actor: Actor,
    anon: bool,
    facts: RepoFacts,
    want: PermLevel,
}

fn facts(private: bool, default: Option<PermLevel>, user: Option<PermLevel>) -> RepoFacts {
    RepoFacts {
        owner: Some(BOB),
        private,
        default_grant: default,
        user_grant: user,
        user_group_grant: None,
    }
}

#[test]
fn repo_level_table() {
    let cases = vec![
        Case {
            what: "anonymous reads public repo with default read",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(false, Some(Read), None),
            want: Read,
        },
        Case {
            what: "anonymous gets nothing when anonymous access is off",
            actor: Actor::Anonymous,
            anon: false,
            facts: facts(false, Some(Read), None),
            want: NONE,
        },
        Case {
            what: "anonymous gets nothing on private repo",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(true, Some(Read), None),
            want: NONE,
        },
        Case {
            what: "anonymous gets default write if granted",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(false, Some(Write), None),
            want: Write,
        },
        Case {
            what: "anonymous with default none",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(false, Some(NONE), None),
            want: NONE,
        },
        Case {
            what: "anonymous with no default row",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(false, None, None),
            want: NONE,
        },
        Case {
            what: "user inherits default read",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, Some(Read), None),
            want: Read,
        },
        Case {
            what: "user inherits default even when anonymous is off",
            actor: user(ALICE),
            anon: false,
            facts: facts(false, Some(Read), None),
            want: Read,
        },
        Case {
            what: "explicit write raises default read",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, Some(Read), Some(Write)),
            want: Write,
        },
        Case {
            what: "explicit none cannot lower default read",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, Some(Read), Some(NONE)),
            want: Read,
        },
        Case {
            what: "private repo ignores default grant",
            actor: user(ALICE),
            anon: true,
            facts: facts(true, Some(Write), None),
            want: NONE,
        },
        Case {
            what: "private repo with explicit read",
            actor: user(ALICE),
            anon: true,
            facts: facts(true, Some(Read), Some(Read)),
            want: Read,
        },
        Case {
            what: "private repo with explicit admin",
            actor: user(ALICE),
            anon: true,
            facts: facts(true, None, Some(Admin)),
            want: Admin,
        },
        Case {
            what: "owner is admin",
            actor: user(BOB),
            anon: true,
            facts: facts(false, Some(NONE), None),
            want: Admin,
        },
        Case {
            what: "owner is admin of private repo",
            actor: user(BOB),
            anon: true,
            facts: facts(true, Some(NONE), None),
            want: Admin,
        },
        Case {
            what: "site admin is admin everywhere",
            actor: admin(),
            anon: true,
            facts: facts(true, Some(NONE), Some(NONE)),
            want: Admin,
        },
        Case {
            what: "site admin with anonymous off",
            actor: admin(),
            anon: false,
            facts: facts(false, None, None),
            want: Admin,
        },
        Case {
            what: "user group grant raises",
            actor: user(ALICE),
            anon: true,
            facts: RepoFacts {
                user_group_grant: Some(Write),
                ..facts(false, Some(Read), None)
            },
            want: Write,
        },
        Case {
            what: "highest of group and user wins",
            actor: user(ALICE),
            anon: true,
            facts: RepoFacts {
                user_group_grant: Some(Admin),
                ..facts(false, Some(Read), Some(Write))
            },
            want: Admin,
        },
        Case {
            what: "group grant on private repo",
            actor: user(ALICE),
            anon: true,
            facts: RepoFacts {
                user_group_grant: Some(Read),
                ..facts(true, Some(Write), None)
            },
            want: Read,
        },
        Case {
            what: "no grants at all",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, None, None),
            want: NONE,
        },
        Case {
            what: "a default admin grant counts as write for users",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, Some(Admin), None),
            want: Write,
        },
        Case {
            what: "a default admin grant counts as write for anonymous visitors",
            actor: Actor::Anonymous,
            anon: true,
            facts: facts(false, Some(Admin), None),
            want: Write,
        },
        Case {
            what: "an explicit admin grant still makes a user admin",
            actor: user(ALICE),
            anon: true,
            facts: facts(false, Some(Admin), Some(Admin)),
            want: Admin,
        },
    ];
    for c in cases {
        assert_eq!(repo_level(&c.actor, c.anon, &c.facts), c.want, "{}", c.what);
    }
}

#[test]
fn repository_creation_follows_hg_create() {
    let create = vec![
        "repository.read".to_owned(),
        "hg.create.repository".to_owned(),
    ];
    let none = vec!["hg.create.none".to_owned()];
    assert!(can_create_repo(&user(ALICE), &create));
    assert!(!can_create_repo(&user(ALICE), &none));
    assert!(
        !can_create_repo(&Actor::Anonymous, &create),
        "anonymous never creates"
    );
    assert!(can_create_repo(&admin(), &none), "admins always may");
}

/// More cases in a compact form: (what, actor, anonymous access, private, default grant,
/// user grant, user-group grant, expected).
#[test]
fn repo_level_compact_table() {
    type Row = (
        &'static str,
        Actor,
        bool,
        bool,
        Option<PermLevel>,
        Option<PermLevel>,
        Option<PermLevel>,
        PermLevel,
    );
    let a = || user(ALICE);
    let rows: Vec<Row> = vec![
        (
            "anon, public, default write",
            Actor::Anonymous,
            true,
            false,
            Some(Write),
            None,
            None,
            Write,
        ),
        (
            "anon, public, default admin is capped",
            Actor::Anonymous,
            true,
            false,
            Some(Admin),
            None,
            None,
            Write,
        ),
        (
            "anon, private, default write",
            Actor::Anonymous,
            true,
            true,
            Some(Write),
            None,
            None,
            NONE,
        ),
        (
            "anon off, private",
            Actor::Anonymous,
            false,
            true,
            Some(Read),
            None,
            None,
            NONE,
        ),
        (
            "anon off, default write",
            Actor::Anonymous,
            false,
            false,
            Some(Write),
            None,
            None,
            NONE,
        ),
        (
            "anon, user and group grants do not apply",
            Actor::Anonymous,
            true,
            false,
            Some(NONE),
            Some(Admin),
            Some(Admin),
            NONE,
        ),
        (
            "user, public, default none, no grants",
            a(),
            true,
            false,
            Some(NONE),
            None,
            None,
            NONE,
        ),
        (
            "user, public, default write",
            a(),
            true,
            false,
            Some(Write),
            None,
            None,
            Write,
        ),
        (
            "user, public, default write, explicit read stays write",
            a(),
            true,
            false,
            Some(Write),
            Some(Read),
            None,
            Write,
        ),
        (
            "user, public, default read, explicit admin",
            a(),
            true,
            false,
            Some(Read),
            Some(Admin),
            None,
            Admin,
        ),
        (
            "user, public, default none, explicit read",
            a(),
            true,
            false,
            Some(NONE),
            Some(Read),
            None,
            Read,
        ),
        (
            "user, public, default none, group write",
            a(),
            true,
            false,
            Some(NONE),
            None,
            Some(Write),
            Write,
        ),
        (
            "user, public, default none, group read, explicit write",
            a(),
            true,
            false,
            Some(NONE),
            Some(Write),
            Some(Read),
            Write,
        ),
        (
            "user, public, default none, group admin, explicit read",
            a(),
            true,
            false,
            Some(NONE),
            Some(Read),
            Some(Admin),
            Admin,
        ),
        (
            "user, public, default read, group none",
            a(),
            true,
            false,
            Some(Read),
            None,
            Some(NONE),
            Read,
        ),
        (
            "user, private, default read, no grants",
            a(),
            true,
            true,
            Some(Read),
            None,
            None,
            NONE,
        ),
        (
            "user, private, group write",
            a(),
            true,
            true,
            Some(Read),
            None,
            Some(Write),
            Write,
        ),
        (
            "user, private, explicit write",
            a(),
            true,
            true,
            Some(NONE),
            Some(Write),
            None,
            Write,
        ),
        (
            "user, private, explicit none",
            a(),
            true,
            true,
            Some(Admin),
            Some(NONE),
            None,
            NONE,
        ),
        (
            "user, private, anon off, explicit read",
            a(),
            false,
            true,
            None,
            Some(Read),
            None,
            Read,
        ),
        (
            "user, anon off, public, no default row",
            a(),
            false,
            false,
            None,
            None,
            None,
            NONE,
        ),
        (
            "user, anon off, public, group read",
            a(),
            false,
            false,
            None,
            None,
            Some(Read),
            Read,
        ),
        (
            "owner, public, default none",
            user(BOB),
            true,
            false,
            Some(NONE),
            None,
            None,
            Admin,
        ),
        (
            "owner, private, anon off",
            user(BOB),
            false,
            true,
            Some(NONE),
            Some(NONE),
            None,
            Admin,
        ),
        (
            "owner, explicit none cannot lower",
            user(BOB),
            true,
            false,
            Some(NONE),
            Some(NONE),
            Some(NONE),
            Admin,
        ),
        (
            "admin, private, nothing granted",
            admin(),
            true,
            true,
            None,
            None,
            None,
            Admin,
        ),
        (
            "admin, public, default none",
            admin(),
            true,
            false,
            Some(NONE),
            None,
            None,
            Admin,
        ),
        (
            "admin, anon off, private",
            admin(),
            false,
            true,
            Some(NONE),
            Some(NONE),
            Some(NONE),
            Admin,
        ),
        (
            "user, default admin capped to write",
            a(),
            true,
            false,
            Some(Admin),
            None,
            None,
            Write,
        ),
        (
            "user, default admin capped, explicit admin",
            a(),
            true,
            false,
            Some(Admin),
            Some(Admin),
            None,
            Admin,
        ),
        (
            "user, default admin capped, group admin",
            a(),
            true,
            false,
            Some(Admin),
            None,
            Some(Admin),
            Admin,
        ),
        (
            "user, default write, group read, explicit read",
            a(),
            true,
            false,
            Some(Write),
            Some(Read),
            Some(Read),
            Write,
        ),
        (
            "user, private, default admin capped and ignored",
            a(),
            true,
            true,
            Some(Admin),
            None,
            None,
            NONE,
        ),
        (
            "user, private, group none, explicit none",
            a(),
            true,
            true,
            Some(Read),
            Some(NONE),
            Some(NONE),
            NONE,
        ),
        (
            "other user, owned by bob, public read",
            a(),
            true,
            false,
            Some(Read),
            None,
            None,
            Read,
        ),
        (
            "user, public, all grants none",
            a(),
            true,
            false,
            Some(NONE),
            Some(NONE),
            Some(NONE),
            NONE,
        ),
        (
            "user, public, default read, explicit write, group admin",
            a(),
            true,
            false,
            Some(Read),
            Some(Write),
            Some(Admin),
            Admin,
        ),
        (
            "anon, public, default read, owner irrelevant",
            Actor::Anonymous,
            true,
            false,
            Some(Read),
            None,
            None,
            Read,
        ),
    ];
    for (what, actor, anon, private, default, user_grant, group_grant, want) in rows {
        let f = RepoFacts {
            owner: Some(BOB),
            private,
            default_grant: default,
            user_grant,
            user_group_grant: group_grant,
        };
        assert_eq!(repo_level(&actor, anon, &f), want, "{what}");
        // Derived checks every surface uses.
        assert_eq!(
            repo_level(&actor, anon, &f).can_read(),
            want >= Read,
            "{what}: read"
        );
        assert_eq!(
            repo_level(&actor, anon, &f).can_write(),
            want >= Write,
            "{what}: write"
        );
    }
}

#[test]
fn group_level_table() {
    type Row = (
        &'static str,
        Actor,
        bool,
        Option<PermLevel>,
        Option<PermLevel>,
        Option<PermLevel>,
        PermLevel,
    );
    // (what, actor, anonymous access on, default grant, user grant, user-group grant, want);
    // the group is owned by BOB.
    let rows: Vec<Row> = vec![
        (
            "anonymous reads with default read",
            Actor::Anonymous,
            true,
            Some(Read),
            None,
            None,
            Read,
        ),
        (
            "anonymous gets nothing with anonymous access off",
            Actor::Anonymous,
            false,
            Some(Read),
            None,
            None,
            NONE,
        ),
        (
            "anonymous never writes into a group",
            Actor::Anonymous,
            true,
            Some(Write),
            None,
            None,
            Read,
        ),
        (
            "anonymous never administers a group",
            Actor::Anonymous,
            true,
            Some(Admin),
            None,
            None,
            Read,
        ),
        (
            "anonymous with default none",
            Actor::Anonymous,
            true,
            Some(NONE),
            None,
            None,
            NONE,
        ),
        (
            "anonymous with no default row",
            Actor::Anonymous,
            true,
            None,
            None,
            None,
            NONE,
        ),
        (
            "user gets the default read",
            user(ALICE),
            true,
            Some(Read),
            None,
            None,
            Read,
        ),
        (
            "user default read even with anonymous access off",
            user(ALICE),
            false,
            Some(Read),
            None,
            None,
            Read,
        ),
        (
            "user grant raises read to write",
            user(ALICE),
            true,
            Some(Read),
            Some(Write),
            None,
            Write,
        ),
        (
            "user grant cannot lower the default",
            user(ALICE),
            true,
            Some(Read),
            Some(NONE),
            None,
            Read,
        ),
        (
            "user-group grant raises",
            user(ALICE),
            true,
            Some(Read),
            None,
            Some(Admin),
            Admin,
        ),
        (
            "highest of user and user group wins",
            user(ALICE),
            true,
            Some(NONE),
            Some(Read),
            Some(Write),
            Write,
        ),
        (
            "user grant over user-group grant",
            user(ALICE),
            true,
            Some(NONE),
            Some(Admin),
            Some(Read),
            Admin,
        ),
        ("nothing at all", user(ALICE), true, None, None, None, NONE),
        (
            "default none, no grants",
            user(ALICE),
            true,
            Some(NONE),
            None,
            None,
            NONE,
        ),
        (
            "the owner administers",
            user(BOB),
            true,
            Some(NONE),
            None,
            None,
            Admin,
        ),
        (
            "the owner administers without anonymous access",
            user(BOB),
            false,
            None,
            None,
            None,
            Admin,
        ),
        (
            "site admin administers",
            admin(),
            true,
            Some(NONE),
            None,
            None,
            Admin,
        ),
        (
            "site admin with no rows",
            admin(),
            false,
            None,
            None,
            None,
            Admin,
        ),
        (
            "a default of admin reaches signed-in users",
            user(ALICE),
            true,
            Some(Admin),
            None,
            None,
            Admin,
        ),
    ];
    for (what, actor, anon, default, user_grant, group_grant, want) in rows {
        let f = GroupFacts {
            owner: Some(BOB),
            default_grant: default,
            user_grant,
            user_group_grant: group_grant,
        };
        assert_eq!(group_level(&actor, anon, &f), want, "{what}");
    }
}
