//! The admin command line: users and Temporary Access Passes created the way IT would,
//! the pass printed once and usable for sign-in, and the audit trail readable.

use std::process::Command;

fn cli(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tap2key-server")).arg("--db").arg(db).args(args).output().expect("the binary runs")
}

#[tokio::test]
async fn it_creates_a_user_issues_a_pass_once_and_the_pass_works() {
    let db = std::env::temp_dir().join(format!("tap2key-cli-{}.sqlite3", std::process::id()));
    let added = cli(&db, &["add-user", "grace@contoso.com", "--name", "Grace Hopper"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let duplicate = cli(&db, &["add-user", "GRACE@contoso.com", "--name", "Again"]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("exists"));

    let issued = cli(&db, &["issue-tap", "grace@contoso.com", "--lifetime", "30", "--one-time"]);
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let pass = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    assert_eq!(pass.len(), 12, "only the pass goes to stdout, for scripts");
    assert!(String::from_utf8_lossy(&issued.stderr).contains("one sign-in only"));
    assert!(!cli(&db, &["issue-tap", "grace@contoso.com", "--lifetime", "5"]).status.success(), "Entra's minimum lifetime is 10 minutes");

    let store = tap2key_server::store::Store::open(&db).await.unwrap();
    let user = store.user_by_upn("grace@contoso.com").await.unwrap().unwrap();
    let now = time::OffsetDateTime::now_utc();
    assert!(matches!(store.check_tap(user.id, &pass, now).await.unwrap(), tap2key_server::store::TapCheck::Accepted { one_time: true, .. }));

    let audit = String::from_utf8(cli(&db, &["audit", "--upn", "grace@contoso.com"]).stdout).unwrap();
    assert!(audit.contains("TapIssued") && audit.contains("UserCreated"));
    assert!(!audit.contains(&pass), "the audit trail never holds the pass");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
