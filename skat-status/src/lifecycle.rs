//! The life of an upload, folded from its status files.
//!
//! An uploaded file goes Uploaded -> Delivered (status 1) -> Accepted (2) -> Exposed (3, a
//! response file is in `/out`), or ends in Failed (0) at any point. Status files can be
//! fetched out of order, twice, or with one missing, so the stage is computed from the set of
//! statuses seen, never from the order they came in: folding the same files in any order,
//! with any repeats, gives the same [`Transaction`].

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::{
    ErrorReport, ServiceName, StatusCode, StatusDocument, StatusFile, StatusFileName, TransactionId,
};

/// Where an upload stands. Ordered by progress; [`Stage::Failed`] is last because an error
/// outranks every other report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Uploaded, no status file yet.
    Uploaded,
    /// Sent to the backend system (status 1).
    Delivered,
    /// Accepted by the backend system (status 2).
    Accepted,
    /// The backend system's response is in `/out` (status 3).
    Exposed,
    /// Processing failed (status 0); see [`Transaction::errors`].
    Failed,
}

impl Stage {
    /// Whether no further status is expected: [`Stage::Exposed`] or [`Stage::Failed`].
    pub fn is_final(self) -> bool {
        matches!(self, Self::Exposed | Self::Failed)
    }
}

/// What applying one status file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// The transaction moved to a later stage.
    Advanced {
        /// The stage before.
        from: Stage,
        /// The stage after.
        to: Stage,
    },
    /// The file was new but left the stage as it was (it came late, or it added another
    /// response file or error).
    Recorded,
    /// Everything in the file was known already.
    Duplicate,
}

/// A status file that does not belong to the transaction it was applied to.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The file is for another service or transaction id.
    #[error("status file {found} is not for transaction {service}/{transaction_id}")]
    OtherTransaction {
        /// The transaction's service.
        service: ServiceName,
        /// The transaction's id.
        transaction_id: TransactionId,
        /// The file's name.
        found: StatusFileName,
    },
    /// The file reports an unrelated outbound file, which belongs to no upload.
    #[error("status file {found} reports an unrelated outbound file, not a stage of an upload")]
    UnrelatedOutbound {
        /// The file's name.
        found: StatusFileName,
    },
}

/// One upload and what its status files said.
///
/// ```
/// use skat_status::{Stage, StatusFile, Transaction};
///
/// let file = |code: u8, text: &str| StatusFile::parse(
///     &format!("status_FTPSGW.Heartbeat_a.xml_{code}.xml"),
///     format!("<status><file><filename>/x/a.xml</filename><FTPTransaktionsId>a.xml</FTPTransaktionsId>\
///              <timestamp>20201210143017</timestamp><status.code>{text}</status.code>\
///              <service>FTPSGW.Heartbeat</service></file></status>").as_bytes(),
/// );
/// let accepted = file(2, "File accepted by FTPSGW.Heartbeat")?;
/// let delivered = file(1, "File delivered to requested Backend System")?;
///
/// // Out of order and twice: still Accepted.
/// let t = Transaction::fold([&accepted, &delivered, &accepted])?.ok_or("no files")?;
/// assert_eq!(t.stage(), Stage::Accepted);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    service: ServiceName,
    transaction_id: TransactionId,
    seen: [bool; 4],
    filename: Option<String>,
    skat_transaction_id: Option<String>,
    responses: BTreeSet<String>,
    errors: BTreeSet<ErrorReport>,
}

/// Keeps the smaller of two optional values, so that the result does not depend on order.
fn keep_min(slot: &mut Option<String>, candidate: Option<&str>) -> bool {
    match (slot.as_deref(), candidate) {
        (_, None) => false,
        (Some(current), Some(new)) if current <= new => false,
        (_, Some(new)) => {
            *slot = Some(new.to_owned());
            true
        }
    }
}

impl Transaction {
    /// A transaction for a file just uploaded to `service` under the name `transaction_id`.
    pub fn new(service: ServiceName, transaction_id: TransactionId) -> Self {
        Self {
            service,
            transaction_id,
            seen: [false; 4],
            filename: None,
            skat_transaction_id: None,
            responses: BTreeSet::new(),
            errors: BTreeSet::new(),
        }
    }

    /// Folds the status files of one transaction; `None` if there are none. Fails if they are
    /// not all for the same transaction, or one reports an unrelated outbound file.
    pub fn fold<'a>(
        files: impl IntoIterator<Item = &'a StatusFile>,
    ) -> Result<Option<Self>, LifecycleError> {
        let mut transaction: Option<Self> = None;
        for file in files {
            let t = transaction.get_or_insert_with(|| {
                Self::new(file.name().service().clone(), file.name().transaction_id().clone())
            });
            t.apply(file)?;
        }
        Ok(transaction)
    }

    /// Takes in one status file of this transaction.
    pub fn apply(&mut self, file: &StatusFile) -> Result<Applied, LifecycleError> {
        let name = file.name();
        if name.service() != &self.service || name.transaction_id() != &self.transaction_id {
            return Err(LifecycleError::OtherTransaction {
                service: self.service.clone(),
                transaction_id: self.transaction_id.clone(),
                found: name.clone(),
            });
        }
        if file.is_unrelated_outbound() {
            return Err(LifecycleError::UnrelatedOutbound { found: name.clone() });
        }
        Ok(self.record(file))
    }

    /// Takes in a status file already known to be a stage of this transaction.
    fn record(&mut self, file: &StatusFile) -> Applied {
        let before = self.stage();
        let document = file.document();
        let mut new = false;
        if let Some(seen) = self.seen.get_mut(usize::from(file.status().as_u8())) {
            new |= !*seen;
            *seen = true;
        }
        let filename = Some(document.filename.as_str()).filter(|f| !f.is_empty());
        new |= keep_min(&mut self.filename, filename);
        new |= keep_min(&mut self.skat_transaction_id, document.skat_transaction_id.as_deref());
        if let Some(response) = &document.response_filename {
            new |= self.responses.insert(response.clone());
        }
        if let Some(error) = &document.error {
            new |= self.errors.insert(error.clone());
        }
        let after = self.stage();
        if after != before {
            Applied::Advanced { from: before, to: after }
        } else if new {
            Applied::Recorded
        } else {
            Applied::Duplicate
        }
    }

    /// The stage: Failed if a status 0 came, else the furthest of Exposed, Accepted,
    /// Delivered that came, else Uploaded. A later stage implies the earlier ones, even when
    /// their files are missing.
    pub fn stage(&self) -> Stage {
        let seen = |code: StatusCode| self.has_seen(code);
        if seen(StatusCode::Error) {
            Stage::Failed
        } else if seen(StatusCode::Exposed) {
            Stage::Exposed
        } else if seen(StatusCode::Accepted) {
            Stage::Accepted
        } else if seen(StatusCode::Delivered) {
            Stage::Delivered
        } else {
            Stage::Uploaded
        }
    }

    /// Whether a status file with `code` has been applied.
    pub fn has_seen(&self, code: StatusCode) -> bool {
        self.seen.get(usize::from(code.as_u8())).copied().unwrap_or(false)
    }

    /// The service the file was uploaded to.
    pub fn service(&self) -> &ServiceName {
        &self.service
    }

    /// The `FTPTransaktionsId` (the uploaded file's name).
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The uploaded file's path as the status files give it (`filename`).
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// The `SKATTransaktionsId`, once a status file has given one.
    pub fn skat_transaction_id(&self) -> Option<&str> {
        self.skat_transaction_id.as_deref()
    }

    /// The response files exposed in `/out` (`response/filename` of status 3), sorted.
    pub fn response_filenames(&self) -> impl Iterator<Item = &str> {
        self.responses.iter().map(String::as_str)
    }

    /// The errors reported by status 0 files, sorted.
    pub fn errors(&self) -> impl Iterator<Item = &ErrorReport> {
        self.errors.iter()
    }
}

/// What [`Ledger::apply`] did with a status file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The file was a stage of an upload.
    Transaction {
        /// What it changed.
        applied: Applied,
        /// The transaction's stage afterwards.
        stage: Stage,
    },
    /// The file reported an unrelated outbound file.
    UnrelatedOutbound {
        /// Whether it was not seen before.
        new: bool,
    },
}

/// All uploads of a client and the unrelated outbound files, fed from the status files found
/// in `/out`.
///
/// ```
/// use skat_status::{Ledger, ServiceName, Stage, TransactionId};
///
/// let mut ledger = Ledger::new();
/// let service = ServiceName::new("FTPSGW.Heartbeat")?;
/// let id = TransactionId::new("ping1.xml")?;
/// ledger.register_upload(service.clone(), id.clone());
/// assert_eq!(ledger.transaction(&service, &id).map(|t| t.stage()), Some(Stage::Uploaded));
/// assert_eq!(ledger.pending().count(), 1);
/// # Ok::<(), skat_status::IdentifierError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    transactions: BTreeMap<ServiceName, BTreeMap<TransactionId, Transaction>>,
    unrelated: BTreeMap<StatusFileName, StatusDocument>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an upload, at [`Stage::Uploaded`] unless status files for it came already.
    pub fn register_upload(
        &mut self,
        service: ServiceName,
        transaction_id: TransactionId,
    ) -> &Transaction {
        self.transactions
            .entry(service.clone())
            .or_default()
            .entry(transaction_id.clone())
            .or_insert_with(|| Transaction::new(service, transaction_id))
    }

    /// Takes in a status file: a stage of an upload (registered or not), or an unrelated
    /// outbound file.
    pub fn apply(&mut self, file: StatusFile) -> Outcome {
        if file.is_unrelated_outbound() {
            let (name, document) = file.into_parts();
            let new = !self.unrelated.contains_key(&name);
            self.unrelated.entry(name).or_insert(document);
            return Outcome::UnrelatedOutbound { new };
        }
        let name = file.name();
        let transaction = self
            .transactions
            .entry(name.service().clone())
            .or_default()
            .entry(name.transaction_id().clone())
            .or_insert_with(|| {
                Transaction::new(name.service().clone(), name.transaction_id().clone())
            });
        // Found by the file's own service and id, and not unrelated: a stage of this one.
        let applied = transaction.record(&file);
        Outcome::Transaction { applied, stage: transaction.stage() }
    }

    /// The transaction of an upload.
    pub fn transaction(
        &self,
        service: &ServiceName,
        transaction_id: &TransactionId,
    ) -> Option<&Transaction> {
        self.transactions.get(service)?.get(transaction_id)
    }

    /// Every transaction, ordered by service and id.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.transactions.values().flat_map(BTreeMap::values)
    }

    /// The transactions whose stage is not final.
    pub fn pending(&self) -> impl Iterator<Item = &Transaction> {
        self.transactions().filter(|t| !t.stage().is_final())
    }

    /// The unrelated outbound files seen, by status file name.
    pub fn unrelated_outbound(&self) -> impl Iterator<Item = (&StatusFileName, &StatusDocument)> {
        self.unrelated.iter()
    }
}
