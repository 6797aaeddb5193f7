//! Record formats (RFC 5024 §1.5.3, §1.5.4, §5.3.3, §5.3.8, §6.5): a file's octets to
//! records to DATA buffers and back.
//!
//! A Virtual File is a sequence of records in one of four formats (SFIDFMT):
//!
//! | SFIDFMT | Records | SFIDLRECL | Restart (SFIDREST) | EFIDRCNT |
//! |---|---|---|---|---|
//! | `F` fixed | all SFIDLRECL octets long | the record length | record number | records |
//! | `V` variable | up to SFIDLRECL octets | the longest record | record number | records |
//! | `U` unstructured | the whole file is one record | `00000` | 1 KiB blocks | zero |
//! | `T` text | ASCII lines ended by CR LF, at most 2,048 characters | `00000` | 1 KiB blocks | zero |
//!
//! Records travel as subrecords in DATA buffers ([`crate::buffer`]); the End of
//! Record flag marks the last subrecord of each record, and for a U file, whose one
//! record is the file, the end of the file. EFIDUCNT counts the file's octets before
//! buffer compression. Both counts are totals from the start of the file, also after a
//! restart.
//!
//! Partners differ on T files: some send the whole file as one record with its CR LF
//! (as RFC 5024 Appendix A does), others send one record per line without CR LF;
//! [`TextLines`] chooses. Files that were signed, compressed or encrypted travel as U
//! whatever SFIDFMT says, and restart in 1 KiB blocks of the transmitted file
//! ([`resume_at`]); V files get §6.5 two-octet length prefixes before such treatment
//! ([`LengthPrefixReader`], [`length_prefix`]).
//!
//! * [`FileEncoder`]: the file's octets (or the caller's records) in, DATA buffers out.
//! * [`FileDecoder`]: DATA buffers in, the file's octets out, EFID counts checked.
//! * [`file_size`]: SFIDFSIZ, 1 KiB blocks rounded up; [`restart_position`] and
//!   [`resume_at`]: restart positions.
//!
//! ```
//! use oftp2_codec::fields::{BufferSize, RecordFormat};
//! use oftp2_codec::record::{FileDecoder, FileEncoder, FileSettings, TextLines};
//!
//! let settings = FileSettings::text(TextLines::RecordPerLine);
//! let mut encoder = FileEncoder::new(settings, BufferSize::new(128)?, true)?;
//! encoder.push(b"UNA:+.? '\r\nUNB+UNOC:3")?;
//! encoder.push(b"+SENDER\r\n")?;
//! let counts = encoder.finish()?;
//! let (records, units) = counts.efid(RecordFormat::Text);
//!
//! let mut decoder = FileDecoder::new(settings, true)?;
//! let mut file = Vec::new();
//! for buffer in encoder.drain_buffers() {
//!     file.extend_from_slice(&decoder.push(&buffer)?);
//! }
//! decoder.finish(records, units)?;
//! assert_eq!(file, b"UNA:+.? '\r\nUNB+UNOC:3+SENDER\r\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod counts;
mod decode;
mod encode;
mod error;
mod prefix;
mod restart;
mod settings;

pub use counts::{file_size, Counts};
pub use decode::FileDecoder;
pub use encode::FileEncoder;
pub use error::{CountMismatch, RecordError};
pub use prefix::{length_prefix, LengthPrefixReader, PrefixedPiece, MAX_PREFIXED_RECORD};
pub use restart::{restart_position, restarts_on_records, resume_at, ResumeAt, RESTART_BLOCK};
pub use settings::{FileSettings, TextLines};
