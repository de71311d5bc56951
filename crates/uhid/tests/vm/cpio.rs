//! An initramfs is a cpio archive in the "newc" format: a 110-byte ASCII header per entry,
//! its name, its data, each padded to 4 bytes, and a `TRAILER!!!` entry at the end. Written
//! here (forty lines) rather than by the cpio tool, which would be one more thing to install.

use std::io::{self, Write};

pub struct Cpio<W: Write> {
    out: W,
    next_inode: u32,
    written: usize,
}

const DIRECTORY: u32 = 0o040_000;
const REGULAR: u32 = 0o100_000;
const CHARACTER_DEVICE: u32 = 0o020_000;

impl<W: Write> Cpio<W> {
    pub fn new(out: W) -> Self {
        Self { out, next_inode: 1, written: 0 }
    }

    pub fn directory(&mut self, path: &str) -> io::Result<()> {
        self.entry(path, DIRECTORY | 0o755, &[], (0, 0))
    }

    pub fn file(&mut self, path: &str, data: &[u8], executable: bool) -> io::Result<()> {
        self.entry(path, REGULAR | if executable { 0o755 } else { 0o644 }, data, (0, 0))
    }

    pub fn character_device(&mut self, path: &str, mode: u32, (major, minor): (u32, u32)) -> io::Result<()> {
        self.entry(path, CHARACTER_DEVICE | mode, &[], (major, minor))
    }

    /// Writes the trailer and hands the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, &[], (0, 0))?;
        Ok(self.out)
    }

    fn entry(&mut self, path: &str, mode: u32, data: &[u8], (rdev_major, rdev_minor): (u32, u32)) -> io::Result<()> {
        let name = path.trim_start_matches('/');
        let inode = if name == "TRAILER!!!" { 0 } else { self.next_inode };
        self.next_inode += 1;
        let size = u32::try_from(data.len()).map_err(|_| io::Error::other(format!("{path} is too big for cpio")))?;
        let name_size = u32::try_from(name.len() + 1).map_err(|_| io::Error::other("name too long"))?;
        let links = if mode & 0o170_000 == DIRECTORY { 2 } else { 1 };
        let fields = [inode, mode, 0, 0, links, 0, size, 0, 0, rdev_major, rdev_minor, name_size, 0];
        let mut header = String::from("070701");
        for field in fields {
            header.push_str(&format!("{field:08x}"));
        }
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len();
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let padding = (4 - self.written % 4) % 4;
        self.put(&[0; 3][..padding])
    }
}

#[test]
fn entries_are_aligned_and_the_archive_ends_with_the_trailer() {
    let mut cpio = Cpio::new(Vec::new());
    cpio.directory("/bin").unwrap();
    cpio.file("/bin/x", b"hello", true).unwrap();
    let bytes = cpio.finish().unwrap();
    assert!(bytes.starts_with(b"070701"));
    assert_eq!(bytes.len() % 4, 0);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("bin/x\0") && text.contains("hello") && text.contains("TRAILER!!!\0"));
}
