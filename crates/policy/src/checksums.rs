//! Checksums of the files of a folder (`checksums.json`: file name to
//! CRC-32C), so that a policy or a checkpoint that went bad on disk is
//! refused, naming the file, instead of driving a robot.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{PolicyError, io};

/// The file, in a policy folder or a checkpoint, that lists the others'
/// checksums.
pub const CHECKSUMS_FILE: &str = "checksums.json";

/// CRC-32C (Castagnoli): what `checksums.json` holds, and what TFRecord
/// files use.
pub fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { 0x82F6_3B78 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

fn bad(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError::Meta { path: path.to_owned(), message: message.into() }
}

/// Writes `dir/checksums.json` for the files `names` of `dir`.
pub fn write_checksums<'a>(dir: &Path, names: impl IntoIterator<Item = &'a str>) -> Result<(), PolicyError> {
    let mut sums = BTreeMap::new();
    for name in names {
        let path = dir.join(name);
        sums.insert(name.to_owned(), crc32c(&std::fs::read(&path).map_err(io(&path))?));
    }
    let path = dir.join(CHECKSUMS_FILE);
    let text = serde_json::to_string_pretty(&sums).map_err(|e| bad(&path, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(io(&path))
}

/// Checks every file `dir/checksums.json` lists; returns the names it
/// lists, or `None` where the folder has no `checksums.json`.
pub fn verify_checksums(dir: &Path) -> Result<Option<Vec<String>>, PolicyError> {
    let path = dir.join(CHECKSUMS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PolicyError::Io { path, source: e }),
    };
    let sums: BTreeMap<String, u32> = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not valid: {e}")))?;
    for (name, sum) in &sums {
        let file = dir.join(name);
        let bytes = std::fs::read(&file).map_err(io(&file))?;
        if crc32c(&bytes) != *sum {
            return Err(PolicyError::Damaged {
                path: file,
                message: "checksum mismatch: the file is corrupted or truncated".into(),
            });
        }
    }
    Ok(Some(sums.into_keys().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn a_changed_file_is_named_and_a_folder_without_checksums_says_so() {
        let dir = std::env::temp_dir().join(format!("tactile-checksums-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), [1u8, 2, 3]).unwrap();
        assert_eq!(verify_checksums(&dir).unwrap(), None);
        write_checksums(&dir, ["a.bin"]).unwrap();
        assert_eq!(verify_checksums(&dir).unwrap(), Some(vec!["a.bin".to_string()]));
        std::fs::write(dir.join("a.bin"), [1u8, 2, 4]).unwrap();
        let e = verify_checksums(&dir).unwrap_err().to_string();
        assert!(e.contains("a.bin") && e.contains("checksum mismatch"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
