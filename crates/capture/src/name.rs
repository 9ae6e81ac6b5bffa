//! Names and places for capture files: `HOST-PORT-YYYYMMDD-HHMMSSZ.trace` (the time in UTC),
//! in a captures folder; and the calendar arithmetic that name needs.

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
    let t = Utc::from_unix_s(unix_s);
    format!(
        "{host}-{:04}{:02}{:02}-{:02}{:02}{:02}Z.trace",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
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

/// A moment split into calendar fields (proleptic Gregorian calendar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    /// The year.
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
}

impl Utc {
    /// The calendar fields of `unix_s` seconds after 1970-01-01 00:00:00 (negative before).
    pub fn from_unix_s(unix_s: i64) -> Utc {
        let days = unix_s.div_euclid(86_400);
        let secs = unix_s.rem_euclid(86_400) as u32;
        // Days to a civil date (the era-based algorithm: eras of 400 years from 0000-03-01).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields_of_known_moments() {
        let f = |s| {
            let u = Utc::from_unix_s(s);
            (u.year, u.month, u.day, u.hour, u.minute, u.second)
        };
        assert_eq!(f(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(f(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(f(1_796_298_312), (2026, 12, 3, 11, 45, 12));
        assert_eq!(f(-1), (1969, 12, 31, 23, 59, 59));
        assert_eq!(f(4_107_542_399), (2100, 2, 28, 23, 59, 59));
    }

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
