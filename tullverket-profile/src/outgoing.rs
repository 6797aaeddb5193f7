//! Files to Customs: Virtual Files of format U (unstructured), as Customs asks for, to
//! their code, without file security (Customs relies on TLS).

use oftp2_codec::fields::DatasetName;
use oftp2_session::store::{FileStore, OutgoingFile, OutgoingId, OutgoingSource, StoreError};

use crate::params;

/// A U-format Virtual File for Customs, named `dataset_name` (SFIDDSN), from this node.
///
/// ```
/// use oftp2_session::store::OutgoingSource;
/// use tullverket_profile::{file_to_customs, params};
///
/// let file = file_to_customs("DECLARATION".parse()?, OutgoingSource::Bytes(b"UNA:+.? '".to_vec()));
/// assert_eq!(file.format, params::FORMAT_TO_CUSTOMS);
/// assert_eq!(file.destination, params::customs_odette_id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn file_to_customs(dataset_name: DatasetName, source: OutgoingSource) -> OutgoingFile {
    OutgoingFile::unstructured(dataset_name, params::customs_odette_id(), source)
}

/// Queues a file for Customs in `store` (copied durably into Customs' outbox); the next
/// session with Customs sends it.
pub fn queue_to_customs<S: FileStore + ?Sized>(
    store: &S,
    dataset_name: DatasetName,
    source: OutgoingSource,
) -> Result<OutgoingId, StoreError> {
    store.queue_outgoing(&params::customs_odette_id(), file_to_customs(dataset_name, source))
}
