//! Names and places for capture files: `HOST-PORT-YYYYMMDD-HHMMSSZ.trace` (the time in UTC),
//! in a captures folder.

use std::path::{Path, PathBuf};

/// The file name for a capture from `url` that began at `unix_s` (seconds since the Unix
/// epoch, UTC): the host and port with anything but letters, digits, `.` and `-` made `-`.
pub fn file_name(url: &str, unix_s: i64) -> String {
    let host: String = super::target::host_port(url)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let host = host
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let host = if host.is_empty() { "capture" } else { &host };
    // 2026-12-03T11:45:12Z → 20261203-114512Z
    let when: String = goscope_trace::event::rfc3339_nano_utc(unix_s, 0)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .map(|c| if c == 'T' { '-' } else { c })
        .collect();
    format!("{host}-{when}.trace")
}

/// A path in `dir` for a capture from `url` at `unix_s` that no file has yet (`-2`, `-3`, …
/// added when two captures begin in the same second).
pub fn unused_path(dir: &Path, url: &str, unix_s: i64) -> PathBuf {
    let name = file_name(url, unix_s);
    let first = dir.join(&name);
    if !first.exists() {
        return first;
    }
    let stem = name.trim_end_matches(".trace");
    (2..)
        .map(|i| dir.join(format!("{stem}-{i}.trace")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Seconds since the Unix epoch now (0 if the clock is before it).
pub fn unix_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The captures folder offered first: `$GOSCOPE_CAPTURES`, else `~/goscope-captures`, else
/// `goscope-captures` in the working directory.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GOSCOPE_CAPTURES") {
        return PathBuf::from(d);
    }
    match std::env::var_os("HOME") {
        Some(h) => Path::new(&h).join("goscope-captures"),
        None => PathBuf::from("goscope-captures"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_host_port_and_time() {
        assert_eq!(
            file_name(
                "http://localhost:6060/debug/pprof/trace?seconds=5",
                1_796_298_312
            ),
            "localhost-6060-20261203-114512Z.trace"
        );
        assert_eq!(
            file_name("https://[::1]:8443/x", 0),
            "1-8443-19700101-000000Z.trace"
        );
        assert_eq!(
            file_name("http://h:1", 4_107_542_399),
            "h-1-21000228-235959Z.trace"
        );
    }

    #[test]
    fn a_second_capture_in_the_same_second_gets_its_own_name() {
        let dir = std::env::temp_dir().join(format!("goscope-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = "http://h:1";
        let first = unused_path(&dir, url, 5);
        std::fs::write(&first, b"x").unwrap();
        let second = unused_path(&dir, url, 5);
        assert_eq!(second.file_name().unwrap(), "h-1-19700101-000005Z-2.trace");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
