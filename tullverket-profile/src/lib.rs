//! Swedish Customs' (Tullverket) OFTP2 profile on [`oftp2_session`]: a working,
//! correctly parameterised link to Customs in a few lines, and a check that says
//! precisely what is wrong when the link does not come up.
//!
//! | What | Where |
//! |---|---|
//! | Customs' parameters (code, host, port 6619, OFTP 2.0, window 7, buffer 2,048, TLS, direction B, formats) | [`params`] |
//! | The company's own code, checked against the form `O09420000` + organisation number + suffix | [`CompanyCode`] |
//! | A ready [`Config`](oftp2_session::config::Config) with Customs as partner, trusting only the GlobalSign certificates given | [`Profile`], [`ProfileBuilder`] |
//! | Files to Customs, format U | [`file_to_customs`], [`queue_to_customs`] |
//! | Files from Customs, format F with 80-octet records, as records and text lines | [`records`] |
//! | The FAQ's connection checks: TLS + chain + "ODETTE FTP READY", and a normal session end | [`check`] |
//!
//! # Getting the GlobalSign certificates
//!
//! Customs' server certificate is issued by GlobalSign; the profile trusts nothing else
//! and refuses to build without trust anchors. Download the root and the intermediate
//! that Customs' FAQ names (DER files; PEM works too):
//!
//! ```text
//! curl -o Root-R1.crt https://secure.globalsign.net/cacert/Root-R1.crt
//! curl -o gsoorganizationvalsha2g2r1.crt https://secure.globalsign.com/cacert/gsoorganizationvalsha2g2r1.crt
//! ```
//!
//! Check their fingerprints against GlobalSign's published ones (for instance
//! `openssl x509 -inform der -in Root-R1.crt -noout -fingerprint -sha256`) before you
//! rely on them.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use tullverket_profile::{params, CompanyCode, Profile, ProfileError};
//!
//! // The company's code: O09420000 + organisation number + suffix.
//! let company: CompanyCode = "O094200005560360793TEKN".parse()?;
//! assert_eq!(company.organisation_number(), Some("5560360793"));
//!
//! // Without the GlobalSign certificates there is no profile: nothing is trusted blindly.
//! let refused = Profile::builder(company).password("SECRET".parse()?).build();
//! assert!(matches!(refused, Err(ProfileError::NoTrustAnchor)));
//!
//! # let dir = tempfile::tempdir()?;
//! # let (root, intermediate) = (dir.path().join("root.pem"), dir.path().join("intermediate.pem"));
//! # let key = rcgen::KeyPair::generate()?;
//! # std::fs::write(&root, rcgen::CertificateParams::new(Vec::<String>::new())?.self_signed(&key)?.pem())?;
//! # std::fs::write(&intermediate, rcgen::CertificateParams::new(Vec::<String>::new())?.self_signed(&key)?.pem())?;
//! let profile = Profile::builder(company)
//!     .password("SECRET".parse()?)
//!     .globalsign(&root, &intermediate)
//!     .build()?;
//! let partner = profile.customs_partner();
//! assert_eq!(partner.odette_id.as_str(), params::CUSTOMS_ODETTE_ID);
//! assert_eq!(profile.config().buffer_size, params::BUFFER_SIZE);
//! assert_eq!(profile.config().credit.get(), 7);
//! assert_eq!(profile.address(), "tmf01.tullverket.se:6619");
//!
//! // Then, in async code:
//! //   check::check_connection(&profile, Duration::from_secs(30)).await?;  // TLS + SSRM
//! //   let node = profile.node(Arc::new(FsStore::open(dir, company.odette_id())?));
//! //   queue_to_customs(&**node.store(), "DECLARATION".parse()?, OutgoingSource::Path(file))?;
//! //   let report = node.connect(&profile.customs(), None).await?;
//! # let _ = Duration::ZERO;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod check;
mod company;
mod outgoing;
pub mod params;
mod profile;
pub mod records;

pub use company::{CompanyCode, CompanyCodeError};
pub use outgoing::{file_to_customs, queue_to_customs};
pub use profile::{Profile, ProfileBuilder, ProfileError};

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
