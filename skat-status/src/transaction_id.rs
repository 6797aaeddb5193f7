//! The `FTPTransaktionsId`: the name under which the client uploaded its file.

use crate::identifier::{identifier_newtype, Rules, PATH_SEPARATORS};

const RULES: Rules =
    Rules { what: "FTPTransaktionsId", forbidden: &PATH_SEPARATORS, no_whitespace: false };

identifier_newtype!(
    /// The `FTPTransaktionsId` of a status file: the name of the uploaded file (the guide:
    /// "Unique transaction ID as specified by the client (uploaded filename)"), or for an
    /// unrelated outbound file a sequence the gateway generated.
    ///
    /// Uploaded file names must be unique per transaction: the gateway rejects a name used
    /// before with `FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION`.
    ///
    /// Rules: 1 to 255 bytes; underscores, dots, hyphens and inner spaces are allowed; path
    /// separators, control characters and white space at either end are not.
    ///
    /// ```
    /// use skat_status::TransactionId;
    ///
    /// let id = TransactionId::new("ping20201210143002441-hb01.xml")?;
    /// assert_eq!(id.as_str(), "ping20201210143002441-hb01.xml");
    /// assert!(TransactionId::new("in/../x").is_err());
    /// # Ok::<(), skat_status::IdentifierError>(())
    /// ```
    TransactionId,
    RULES
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentifierError;

    #[test]
    fn accepts_the_guides_ids() {
        for id in [
            "ping20201210143002441-hb01.xml",
            "empty.xml",
            "Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml",
        ] {
            assert_eq!(TransactionId::new(id).map(String::from).as_deref(), Ok(id));
        }
    }

    #[test]
    fn refuses_paths_and_edges() {
        assert!(matches!(
            TransactionId::new("a/b"),
            Err(IdentifierError::ForbiddenChar { found: '/', offset: 1, .. })
        ));
        assert!(matches!(
            TransactionId::new("a.xml "),
            Err(IdentifierError::SurroundingWhitespace { .. })
        ));
    }
}
