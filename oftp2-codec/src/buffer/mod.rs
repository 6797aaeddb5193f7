//! Data Exchange Buffers (RFC 5024 §7): how Virtual File records travel in DATA
//! commands.
//!
//! A DATA buffer is the command octet `D` followed by subrecords, each behind a
//! one-octet [`SubrecordHeader`]:
//!
//! ```text
//! | D | HDR | subrecord | HDR | subrecord | ...        (in all at most SSIDSDEB octets)
//! ```
//!
//! The header carries the End of Record flag (`0x80`: the subrecord is the last of its
//! record), the Compression flag (`0x40`: the subrecord is one octet standing for
//! `count` copies of itself) and a count of 0..=63 octets. Compression may be used only
//! when both SSID commands offered it (SSIDCMPR `Y`). Records may be split across
//! buffers and several records may share one; a subrecord never crosses a buffer, and
//! zero-length records and subrecords are legal anywhere (§7.3).
//!
//! * [`Subrecords`] decodes a payload (the octets after `D`) without copying, reporting
//!   malformed subrecords as [`Malformed`](crate::Malformed) with ESID reason 06;
//!   [`expand_into`] writes what a payload stands for into a buffer.
//! * [`BufferFiller`] packs record data into buffers of the negotiated size, splitting
//!   subrecords at buffer ends (strategy 2 of §7.3) and compressing runs.
//!
//! The record formats on top of this (F, V, U, T) are in [`crate::record`].
//!
//! ```
//! use oftp2_codec::buffer::{expand_into, BufferFiller};
//! use oftp2_codec::fields::BufferSize;
//!
//! let mut filler = BufferFiller::new(BufferSize::new(128)?, false);
//! filler.write_record(b"It is an ancient Mariner,\r\n");
//! filler.flush();
//! let buffer = filler.pop_buffer().unwrap();
//! assert_eq!(buffer[1], 0x80 | 27); // End of Record, 27 octets.
//!
//! let mut file = Vec::new();
//! expand_into(&buffer[1..], false, &mut file)?;
//! assert_eq!(file, b"It is an ancient Mariner,\r\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compress;
mod decode;
mod fill;
mod header;

pub use decode::{
    data_payload, expand_into, Expansion, Subrecord, SubrecordData, Subrecords, DATA_COMMAND,
};
pub(crate) use decode::{parse_subrecord, RawData};
pub use fill::BufferFiller;
pub use header::SubrecordHeader;
