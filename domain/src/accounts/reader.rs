//! Decoding session strings: base64 into a buffer zeroized on drop, then a cursor whose every read is checked,
//! so no input can make a parser panic.

use base64::Engine as _;
use base64::engine::GeneralPurpose;
use zeroize::Zeroizing;

/// Decodes `encoded` into a buffer sized once (no reallocation leaves a copy behind) and zeroized on drop.
pub(crate) fn decode_base64(engine: &GeneralPurpose, encoded: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut buffer = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(encoded.len())]);
    let len = engine.decode_slice(encoded, buffer.as_mut_slice()).ok()?;
    buffer.truncate(len);
    Some(buffer)
}

/// Big-endian reads that return `None` instead of running past the end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|bytes| bytes.try_into().ok())
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }

    pub(crate) fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_be_bytes)
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_be_bytes)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_stops_at_the_end() {
        let mut reader = Reader::new(&[1, 0, 2, 0, 0, 3]);
        assert_eq!(reader.u8(), Some(1));
        assert_eq!(reader.u16(), Some(2));
        assert_eq!(reader.u32(), None, "only three bytes were left");
        assert_eq!(reader.take(3), Some(&[0, 0, 3][..]));
        assert!(reader.is_empty());
        assert_eq!(reader.u8(), None);
    }
}
