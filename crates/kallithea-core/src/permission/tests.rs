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
