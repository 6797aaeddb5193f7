//! [`NoFiles`]: the view of a store a session check runs on, so that the check
//! transfers no file and owes nothing afterwards.
//!
//! The outbox looks empty and no receipt is offered, so nothing is sent; an incoming file
//! is refused with a retry (the check also announces itself as send-only, so Customs
//! should not offer one); a receipt that Customs sends anyway is recorded in the real
//! store, so it is not lost.

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::OdetteId;
use oftp2_codec::reason::SfnaReason;
use oftp2_codec::record::Counts;
use oftp2_session::store::{
    FileStore, IncomingDecision, OutgoingEntry, OutgoingFile, OutgoingId, OutgoingReader, Receipt,
    ReceiptId, Refusal, RefusalReason, StoreError,
};

/// A store whose outbox and owed receipts look empty, and which refuses incoming files.
pub(crate) struct NoFiles<'a, S: ?Sized>(pub(crate) &'a S);

impl<S: FileStore + ?Sized> FileStore for NoFiles<'_, S> {
    fn begin_incoming(
        &self,
        _partner: &OdetteId,
        _sfid: &Sfid,
        _restart_offered: bool,
    ) -> Result<IncomingDecision, StoreError> {
        Ok(IncomingDecision::Refuse(Refusal {
            reason: SfnaReason::UNSPECIFIED,
            retry: true,
            text: "connection check: no files in this session, send it again later".to_owned(),
        }))
    }

    fn queue_outgoing(
        &self,
        partner: &OdetteId,
        file: OutgoingFile,
    ) -> Result<OutgoingId, StoreError> {
        self.0.queue_outgoing(partner, file)
    }

    fn outgoing(&self, _partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError> {
        Ok(Vec::new())
    }

    fn outgoing_all(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError> {
        self.0.outgoing_all(partner)
    }

    fn outgoing_entry(&self, id: &OutgoingId) -> Result<OutgoingEntry, StoreError> {
        self.0.outgoing_entry(id)
    }

    fn open_outgoing(&self, id: &OutgoingId) -> Result<Box<dyn OutgoingReader>, StoreError> {
        self.0.open_outgoing(id)
    }

    fn outgoing_progress(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError> {
        self.0.outgoing_progress(id, counts)
    }

    fn outgoing_sent(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError> {
        self.0.outgoing_sent(id, counts)
    }

    fn outgoing_refused(
        &self,
        id: &OutgoingId,
        reason: RefusalReason,
        retry: bool,
        text: &str,
    ) -> Result<(), StoreError> {
        self.0.outgoing_refused(id, reason, retry, text)
    }

    fn receipt_received(
        &self,
        partner: &OdetteId,
        receipt: &Receipt,
    ) -> Result<Option<OutgoingId>, StoreError> {
        self.0.receipt_received(partner, receipt)
    }

    fn queue_receipt(&self, partner: &OdetteId, receipt: Receipt) -> Result<ReceiptId, StoreError> {
        self.0.queue_receipt(partner, receipt)
    }

    fn pending_receipts(
        &self,
        _partner: &OdetteId,
    ) -> Result<Vec<(ReceiptId, Receipt)>, StoreError> {
        Ok(Vec::new())
    }

    fn receipt_sent(&self, id: &ReceiptId) -> Result<(), StoreError> {
        self.0.receipt_sent(id)
    }
}
