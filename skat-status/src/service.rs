//! The name of a service: the folder a file is uploaded to (`<service>` in a status file).

use crate::catalogue::{self, Service};
use crate::identifier::{identifier_newtype, Rules};

const RULES: Rules = Rules {
    what: "service name",
    forbidden: &[
        ('_', "the underscore separates the service from the transaction id in status file names"),
        ('/', "a path separator cannot be part of a folder name"),
        ('\\', "a path separator cannot be part of a folder name"),
    ],
    no_whitespace: true,
};

identifier_newtype!(
    /// The requested service (`<service>`, and `<requested service>` in a status file name):
    /// the folder the file was uploaded to, such as `FTPSGW.Heartbeat` or
    /// `Manifest.AnkomstdeklarationOpret`.
    ///
    /// Any name that fits the rules is allowed, whether or not the [catalogue](crate::catalogue)
    /// knows it. Rules: 1 to 255 bytes, no underscore (it separates the parts of a status file
    /// name), no path separator, no white space, no control character.
    ///
    /// ```
    /// use skat_status::{ServiceName, System};
    ///
    /// let service = ServiceName::new("FTPSGW.Heartbeat")?;
    /// assert_eq!(service.catalogue_entry().map(|s| s.system), Some(System::FtpsGateway));
    /// assert!(ServiceName::new("has_underscore").is_err());
    /// # Ok::<(), skat_status::IdentifierError>(())
    /// ```
    ServiceName,
    RULES
);

impl ServiceName {
    /// The catalogue's entry for this service, if the guide lists it.
    pub fn catalogue_entry(&self) -> Option<&'static Service> {
        catalogue::find(self.as_str())
    }

    /// Whether files for this service must be uploaded in ASCII mode (FTP `TYPE A`); `None`
    /// when the service is not in the catalogue.
    pub fn requires_ascii_mode(&self) -> Option<bool> {
        self.catalogue_entry().map(|s| s.ascii_mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentifierError;

    #[test]
    fn refuses_underscores_and_spaces() {
        assert!(matches!(
            ServiceName::new("a_b"),
            Err(IdentifierError::ForbiddenChar { found: '_', offset: 1, .. })
        ));
        assert!(matches!(
            ServiceName::new("a b"),
            Err(IdentifierError::ForbiddenChar { found: ' ', .. })
        ));
    }

    #[test]
    fn unknown_services_are_allowed() {
        let name = ServiceName::new("Some.FutureService");
        assert_eq!(name.as_ref().map(ServiceName::catalogue_entry), Ok(None));
        assert_eq!(name.map(|n| n.requires_ascii_mode()), Ok(None));
    }

    #[test]
    fn ekapital_classic_needs_ascii() {
        let name = ServiceName::new("AKFA");
        assert_eq!(name.map(|n| n.requires_ascii_mode()), Ok(Some(true)));
    }
}
