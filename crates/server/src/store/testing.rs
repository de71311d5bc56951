//! Test helpers: a unique SQLite file under the system temp directory, removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::{OffsetDateTime, Store, User};

/// A unique database path (`<temp>/tap2key-store-<label>-<pid>-<n>-<random>/directory.sqlite`)
/// in a directory of its own, removed with everything in it (the `-wal` and `-shm` files
/// too) when dropped.
pub(crate) struct TempDb {
    dir: PathBuf,
    path: PathBuf,
}

impl TempDb {
    pub(crate) fn new(label: &str) -> TempDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let random: u64 = rand::random();
        let dir = std::env::temp_dir().join(format!(
            "tap2key-store-{label}-{}-{n}-{random:016x}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).expect("create the test database's directory");
        let path = dir.join("directory.sqlite");
        TempDb { dir, path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Every byte SQLite has written: the main file, the write-ahead log and the index.
    pub(crate) fn raw_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(&self.dir).expect("list the test database's directory") {
            bytes.extend(std::fs::read(entry.expect("directory entry").path()).expect("read"));
        }
        bytes
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fixed "now" for tests: 2030-06-01 12:00:00.25 UTC (a fraction, to catch truncation).
pub(crate) fn now() -> OffsetDateTime {
    time::macros::datetime!(2030-06-01 12:00:00.25 UTC)
}

/// A fresh store with one user in it.
pub(crate) async fn store_with_user(label: &str) -> (TempDb, Store, User) {
    let db = TempDb::new(label);
    let store = Store::open(db.path()).await.expect("open the store");
    let user = store
        .create_user("Ada.Lovelace@Example.com", "Ada Lovelace", now())
        .await
        .expect("create a user");
    (db, store, user)
}
