//! A bounds-checked cursor over trace bytes: uvarints, single bytes and slices, each failing with the file offset.

use super::error::{Error, Result};

/// Reads little-endian base-128 varints and raw bytes from a slice that sits at
/// `base` in the file, so every error can name an absolute offset.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    generation: Option<u64>,
}

/// Decodes one uvarint from the front of `b`: the value and the bytes used. `None` when
/// the bytes run out or the value overflows 64 bits (more than 10 bytes, or a 10th byte
/// above 1), exactly the inputs Go's `binary.Uvarint` rejects.
#[inline]
pub fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    // Most values in a trace fit one byte.
    if let Some(&first) = b.first() {
        if first < 0x80 {
            return Some((first as u64, 1));
        }
    }
    let mut x: u64 = 0;
    let mut shift = 0u32;
    for (i, &byte) in b.iter().enumerate() {
        if i == 10 {
            return None;
        }
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return None;
            }
            return Some((x | (byte as u64) << shift, i + 1));
        }
        x |= ((byte & 0x7f) as u64) << shift;
        shift += 7;
    }
    None
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`, which sits at offset `base` in the file.
    pub fn new(data: &'a [u8], base: u64, generation: Option<u64>) -> Self {
        Cursor {
            data,
            pos: 0,
            base,
            generation,
        }
    }

    /// Absolute file offset of the next byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes left to read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Sets the generation that errors report.
    pub fn set_generation(&mut self, generation: Option<u64>) {
        self.generation = generation;
    }

    /// Reads one byte; `what` names it in the error.
    #[inline]
    pub fn byte(&mut self, what: &'static str) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(Error::eof(self.offset(), self.generation, what)),
        }
    }

    /// Reads one uvarint; `what` names it in the error.
    #[inline]
    pub fn uvarint(&mut self, what: &'static str) -> Result<u64> {
        let rest = &self.data[self.pos..];
        match uvarint(rest) {
            Some((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            None if rest.len() < 10 && rest.iter().all(|b| b & 0x80 != 0) => {
                Err(Error::eof(self.offset(), self.generation, what))
            }
            None => Err(Error::malformed(
                self.offset(),
                self.generation,
                what,
                "a varint longer than 64 bits",
            )),
        }
    }

    /// Reads `n` raw bytes; `what` names them in the error.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(Error::eof(self.offset(), self.generation, what));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    #[test]
    fn uvarints_decode_like_go() {
        assert_eq!(uvarint(&[0x00]), Some((0, 1)));
        assert_eq!(uvarint(&[0x7f]), Some((127, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uvarint(&[0xac, 0x02]), Some((300, 2)));
        // u64::MAX: nine 0xff then 0x01.
        assert_eq!(uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Some((u64::MAX, 10)));
        // Overflow in the 10th byte.
        assert_eq!(uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), None);
        // Runs out.
        assert_eq!(uvarint(&[0x80, 0x80]), None);
        assert_eq!(uvarint(&[]), None);
    }

    #[test]
    fn cursor_errors_name_the_offset() {
        let mut c = Cursor::new(&[0x05, 0x80], 100, Some(3));
        assert_eq!(c.uvarint("a").unwrap(), 5);
        let e = c.uvarint("batch size").unwrap_err();
        assert_eq!(e.offset, 101);
        assert_eq!(e.generation, Some(3));
        assert!(e.to_string().contains("offset 101"), "{e}");
        assert!(e.to_string().contains("batch size"), "{e}");
    }
}
