//! The systems and services of the guide's "List of systems/services", as data.
//!
//! The list was read from an OCR'd copy of the guide, where `l` and `I` are easily mistaken;
//! names were restored where the pattern is plain (`DMIIndbetaling...`, `MFFordringIndberet`,
//! `GI`, `DMIValutaKurserOverførService`). [`find`] therefore also matches a folder name
//! that differs only in ASCII case.

/// A backend system behind FTPS Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum System {
    /// eKapital.
    EKapital,
    /// eKapital (Classic): files must be uploaded in ASCII mode; the record-format error
    /// codes concern only this system.
    EKapitalClassic,
    /// PSRM.
    Psrm,
    /// MiniMF (ICI).
    MiniMf,
    /// DMI.
    Dmi,
    /// ICS.
    Ics,
    /// Manifest.
    Manifest,
    /// FTPS Gateway itself (the `FTPSGW.Heartbeat` service of the guide's examples).
    FtpsGateway,
}

impl System {
    /// Every system, in the guide's order.
    pub const ALL: [System; 8] = [
        System::EKapital,
        System::EKapitalClassic,
        System::Psrm,
        System::MiniMf,
        System::Dmi,
        System::Ics,
        System::Manifest,
        System::FtpsGateway,
    ];

    /// The system's name as the guide writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::EKapital => "eKapital",
            Self::EKapitalClassic => "eKapital (Classic)",
            Self::Psrm => "PSRM",
            Self::MiniMf => "MiniMF (ICI)",
            Self::Dmi => "DMI",
            Self::Ics => "ICS",
            Self::Manifest => "Manifest",
            Self::FtpsGateway => "FTPS Gateway",
        }
    }

    /// The system's services, in the guide's order.
    ///
    /// ```
    /// use skat_status::System;
    ///
    /// let folders: Vec<&str> = System::MiniMf.services().map(|s| s.folder).collect();
    /// assert_eq!(folders, ["MFFordringIndberet", "MFFordringTypeHent", "MFKvitteringHent", "MFUnderretSamlingHent"]);
    /// ```
    pub fn services(self) -> impl Iterator<Item = &'static Service> {
        SERVICES.iter().filter(move |s| s.system == self)
    }

    /// Whether uploads to this system's services must use ASCII mode (FTP `TYPE A`).
    pub fn requires_ascii_mode(self) -> bool {
        matches!(self, Self::EKapitalClassic)
    }
}

/// A system name that is not one of the guide's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found:?} is not a system of the guide (eKapital, eKapital (Classic), PSRM, MiniMF (ICI), DMI, ICS, Manifest, FTPS Gateway)")]
pub struct UnknownSystem {
    /// The name given.
    pub found: String,
}

impl core::str::FromStr for System {
    type Err = UnknownSystem;

    /// Reads a system's name as the guide writes it, ignoring ASCII case; `eKapital Classic`,
    /// `MiniMF` and `ICI` are accepted too.
    fn from_str(s: &str) -> Result<Self, UnknownSystem> {
        let name = s.trim();
        let aliases = [
            ("eKapital Classic", Self::EKapitalClassic),
            ("MiniMF", Self::MiniMf),
            ("ICI", Self::MiniMf),
        ];
        Self::ALL
            .into_iter()
            .map(|system| (system.name(), system))
            .chain(aliases)
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, system)| system)
            .ok_or_else(|| UnknownSystem { found: s.to_owned() })
    }
}

impl core::fmt::Display for System {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A service: an upload folder and the system behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Service {
    /// The folder name, which is also the `<service>` of its status files.
    pub folder: &'static str,
    /// The backend system.
    pub system: System,
    /// Whether files must be uploaded in ASCII mode (FTP `TYPE A`); otherwise binary
    /// (`TYPE I`).
    pub ascii_mode: bool,
}

const fn svc(folder: &'static str, system: System, ascii_mode: bool) -> Service {
    Service { folder, system, ascii_mode }
}

/// Every service of the guide, system by system in the guide's order.
pub const SERVICES: &[Service] = &[
    svc("FATCA", System::EKapital, false),
    svc("CRS", System::EKapital, false),
    svc("Udlaan", System::EKapital, false),
    svc("Prioritetslaan", System::EKapital, false),
    svc("Pensiondiverse", System::EKapital, false),
    svc("Pantebreve", System::EKapital, false),
    svc("Indlaan", System::EKapital, false),
    svc("CBC", System::EKapital, false),
    svc("AKFA", System::EKapitalClassic, true),
    svc("AKSA", System::EKapitalClassic, true),
    svc("ANPA", System::EKapitalClassic, true),
    svc("ATP", System::EKapitalClassic, true),
    svc("BHOL", System::EKapitalClassic, true),
    svc("CPS", System::EKapitalClassic, true),
    svc("FINK", System::EKapitalClassic, true),
    svc("GI", System::EKapitalClassic, true),
    svc("IFPA", System::EKapitalClassic, true),
    svc("IRTE", System::EKapitalClassic, true),
    svc("OBLG", System::EKapitalClassic, true),
    svc("PADE", System::EKapitalClassic, true),
    svc("PANT", System::EKapitalClassic, true),
    svc("SFS", System::EKapitalClassic, true),
    svc("UDBY", System::EKapitalClassic, true),
    svc("URTE", System::EKapitalClassic, true),
    svc("KTR", System::EKapitalClassic, true),
    svc("INDBetalingsoplysningerTraekListeModtagService", System::Psrm, false),
    svc("INDBetalingsaftalerTraekListeModtagService", System::Psrm, false),
    svc("INDBetalingsanmodningerTraekListeSendService", System::Psrm, false),
    svc("INDIndbetalingsKortStatusListeModtagService", System::Psrm, false),
    svc("INDBetalingTilAfmeldingerTraekListeSendService", System::Psrm, false),
    svc("INDIndbetalingOplysningListeModtagService", System::Psrm, false),
    svc("INDKontoudtogOplysningListeModtagService", System::Psrm, false),
    svc("INDUdbetalingOplysningListeModtagService", System::Psrm, false),
    svc("INDMFFordringIndberetService", System::Psrm, false),
    svc("INDMFKvitteringHentService", System::Psrm, false),
    svc("INDMFUnderretSamlingHentService", System::Psrm, false),
    svc("INDMFFordringTypeHentService", System::Psrm, false),
    svc("INDMUdbetalingOplysningListeModtagService", System::Psrm, false),
    svc("INDMKontoudtogOplysningListeModtagService", System::Psrm, false),
    svc("MFFordringIndberet", System::MiniMf, false),
    svc("MFFordringTypeHent", System::MiniMf, false),
    svc("MFKvitteringHent", System::MiniMf, false),
    svc("MFUnderretSamlingHent", System::MiniMf, false),
    svc("BetalingsanmodningerTraekListeSend", System::Dmi, false),
    svc("DMIBetalingsaftalerTraekListeModtagService", System::Dmi, false),
    svc("DMIBetalingsanmodningerTraekListeSendService", System::Dmi, false),
    svc("DMIBetalingsoplysningerTraekListeModtagService", System::Dmi, false),
    svc("DMIBetalingTilAfmeldingerTraekListeSendService", System::Dmi, false),
    svc("DMIIndbetalingOplysningListeModtagService", System::Dmi, false),
    svc("DMIKontoudtogOplysningListeModtagService", System::Dmi, false),
    svc("DMIUdbetalingOplysningListeModtagService", System::Dmi, false),
    svc("DMIValutaKurserOverførService", System::Dmi, false),
    svc("SummariskindgangsangivelseOpdaterService", System::Ics, false),
    svc("SummariskindgangsangivelseOpretService", System::Ics, false),
    svc("SummariskindgangsangivelseSamlingOmdirigerService", System::Ics, false),
    svc("Manifest.AfgangsdeklarationOpdater", System::Manifest, false),
    svc("Manifest.AfgangsdeklarationOpret", System::Manifest, false),
    svc("Manifest.AfgangsdeklarationSlet", System::Manifest, false),
    svc("Manifest.AnkomstdeklarationOpdater", System::Manifest, false),
    svc("Manifest.AnkomstdeklarationOpret", System::Manifest, false),
    svc("Manifest.AnkomstdeklarationSlet", System::Manifest, false),
    svc("Manifest.EksternAnkomstOgAfgangsindberetningOpret", System::Manifest, false),
    svc("Manifest.MidlertidigOpbevaringOpdater", System::Manifest, false),
    svc("Manifest.MidlertidigOpbevaringOpret", System::Manifest, false),
    svc("Manifest.MidlertidigOpbevaringOpsplitOpret", System::Manifest, false),
    svc("Manifest.MidlertidigOpbevaringSlet", System::Manifest, false),
    svc("Manifest.TolddokumentSamlingHent", System::Manifest, false),
    svc("FTPSGW.Heartbeat", System::FtpsGateway, false),
];

/// The service whose folder is `folder`: an exact match first, else one that differs only in
/// ASCII case. `None` for a service the guide does not list (which is still allowed).
///
/// ```
/// use skat_status::{catalogue, System};
///
/// let service = catalogue::find("AKFA").ok_or("not listed")?;
/// assert_eq!(service.system, System::EKapitalClassic);
/// assert!(service.ascii_mode);
/// assert_eq!(catalogue::find("Manifest.AnkomstdeklarationOpret").map(|s| s.ascii_mode), Some(false));
/// assert!(catalogue::find("NoSuchService").is_none());
/// # Ok::<(), &str>(())
/// ```
pub fn find(folder: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .find(|s| s.folder == folder)
        .or_else(|| SERVICES.iter().find(|s| s.folder.eq_ignore_ascii_case(folder)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServiceName;

    #[test]
    fn counts_per_system_match_the_guide() {
        let counts: Vec<usize> = System::ALL.iter().map(|s| s.services().count()).collect();
        assert_eq!(counts, [8, 17, 14, 4, 9, 3, 12, 1]);
    }

    #[test]
    fn every_folder_is_a_valid_unique_service_name() {
        for (i, service) in SERVICES.iter().enumerate() {
            assert!(ServiceName::new(service.folder).is_ok(), "{}", service.folder);
            assert_eq!(find(service.folder), Some(service));
            let later = SERVICES.iter().skip(i + 1);
            assert!(
                later.clone().all(|o| !o.folder.eq_ignore_ascii_case(service.folder)),
                "{} twice",
                service.folder
            );
        }
    }

    #[test]
    fn ascii_mode_is_exactly_ekapital_classic() {
        for service in SERVICES {
            assert_eq!(service.ascii_mode, service.system.requires_ascii_mode());
        }
        assert_eq!(find("udby").map(|s| (s.folder, s.ascii_mode)), Some(("UDBY", true)));
        assert_eq!(find("FATCA").map(|s| s.ascii_mode), Some(false));
    }

    #[test]
    fn system_names_read_back() {
        for system in System::ALL {
            assert_eq!(system.name().parse(), Ok(system));
            assert_eq!(system.to_string().to_uppercase().parse(), Ok(system));
        }
        assert_eq!(" ekapital classic".parse(), Ok(System::EKapitalClassic));
        assert_eq!("ICI".parse(), Ok(System::MiniMf));
        assert!("eKapital2".parse::<System>().is_err());
    }

    #[test]
    fn heartbeat_belongs_to_the_gateway() {
        assert_eq!(find("FTPSGW.Heartbeat").map(|s| s.system.name()), Some("FTPS Gateway"));
    }
}
