//! A minimal protocol buffers writer, enough for pprof's `profile.proto`.
//!
//! Wire format, as used here:
//!
//! | piece            | bytes                                                  |
//! |------------------|--------------------------------------------------------|
//! | varint           | 7 bits per byte, least significant first, high bit = more |
//! | field key        | varint of `field << 3 \| wire type`                     |
//! | wire type 0      | varint value (int64 as two's complement u64)           |
//! | wire type 2      | varint length, then that many bytes (string, bytes, nested message, packed repeated scalars) |
//!
//! Scalars equal to zero are left out, as proto3 allows (a reader sees the default).

/// Wire type of varint scalars.
pub(crate) const VARINT: u8 = 0;
/// Wire type of length-delimited fields.
pub(crate) const LEN: u8 = 2;

/// Appends protobuf-encoded fields to a byte buffer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// A bare varint.
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    /// A uint64 field; omitted when zero.
    pub(crate) fn uint64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(v);
        }
    }

    /// An int64 field (not zigzag: proto `int64`); omitted when zero.
    pub fn int64(&mut self, field: u32, v: i64) {
        self.uint64(field, v as u64);
    }

    /// A bytes or string field, always written (repeated strings need their empties).
    pub fn bytes(&mut self, field: u32, v: &[u8]) {
        self.key(field, LEN);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    pub fn string(&mut self, field: u32, v: &str) {
        self.bytes(field, v.as_bytes());
    }

    /// A packed repeated uint64 field; omitted when empty.
    pub(crate) fn packed_uint64(&mut self, field: u32, vs: &[u64]) {
        if vs.is_empty() {
            return;
        }
        let mut inner = Writer::new();
        for &v in vs {
            inner.varint(v);
        }
        self.bytes(field, &inner.buf);
    }

    /// A packed repeated int64 field; omitted when empty.
    pub(crate) fn packed_int64(&mut self, field: u32, vs: &[i64]) {
        if vs.is_empty() {
            return;
        }
        let mut inner = Writer::new();
        for &v in vs {
            inner.varint(v as u64);
        }
        self.bytes(field, &inner.buf);
    }

    /// A nested message, built by `f`; always written, even when empty.
    pub fn message(&mut self, field: u32, f: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::new();
        f(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    #[rustfmt::skip]
    fn varints() {
        assert_eq!(bytes_of(|w| w.varint(0)), [0x00]);
        assert_eq!(bytes_of(|w| w.varint(1)), [0x01]);
        assert_eq!(bytes_of(|w| w.varint(127)), [0x7f]);
        assert_eq!(bytes_of(|w| w.varint(128)), [
            0x80, // low 7 bits 0, more
            0x01, // 1 << 7
        ]);
        assert_eq!(bytes_of(|w| w.varint(300)), [
            0xac, // 300 & 0x7f = 0x2c, more
            0x02, // 300 >> 7 = 2
        ]);
        assert_eq!(bytes_of(|w| w.varint(u64::MAX)), [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0x01, // 64 bits take 10 bytes
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn scalar_fields() {
        assert_eq!(bytes_of(|w| w.uint64(1, 150)), [
            0x08,       // field 1, varint
            0x96, 0x01, // 150
        ]);
        assert_eq!(bytes_of(|w| w.uint64(12, 1)), [
            0x60, // field 12 << 3 | 0
            0x01,
        ]);
        // Zero is the default: left out.
        assert_eq!(bytes_of(|w| w.uint64(3, 0)), [0u8; 0]);
        // int64 -1 is ten bytes of two's complement, not zigzag.
        assert_eq!(bytes_of(|w| w.int64(2, -1)), [
            0x10, // field 2, varint
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        // Field numbers past 15 need a two-byte key.
        assert_eq!(bytes_of(|w| w.uint64(16, 2)), [
            0x80, 0x01, // (16 << 3 | 0) = 128
            0x02,
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn length_delimited() {
        assert_eq!(bytes_of(|w| w.string(6, "")), [
            0x32, // field 6, len
            0x00, // empty: still written
        ]);
        assert_eq!(bytes_of(|w| w.string(6, "count")), [
            0x32, 0x05, b'c', b'o', b'u', b'n', b't',
        ]);
        assert_eq!(bytes_of(|w| w.packed_uint64(1, &[3, 270])), [
            0x0a,       // field 1, len
            0x03,       // 3 bytes follow
            0x03,       // 3
            0x8e, 0x02, // 270
        ]);
        assert_eq!(bytes_of(|w| w.packed_int64(2, &[])), [0u8; 0]);
        assert_eq!(bytes_of(|w| w.message(11, |m| { m.uint64(1, 21); m.uint64(2, 2); })), [
            0x5a,       // field 11, len
            0x04,       // nested message length
            0x08, 0x15, // type = string 21
            0x10, 0x02, // unit = string 2
        ]);
    }
}
