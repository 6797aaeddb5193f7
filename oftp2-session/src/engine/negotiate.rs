//! The Start Session phase's negotiation (§5.3.2, §9.8 predicates P2, P4, P8).

use oftp2_codec::command::Ssid;
use oftp2_codec::fields::{BufferSize, Credit, OdetteId, Password, SendReceive, UserData};
use oftp2_codec::reason::EsidReason;
use oftp2_codec::ProtocolLevel;

use crate::config::{Config, Partner};

/// What the two SSIDs agreed for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The protocol level: the lower of the two.
    pub level: ProtocolLevel,
    /// Buffer size (SSIDSDEB): the smaller of the two.
    pub buffer_size: BufferSize,
    /// Credit window (SSIDCRED): the Responder's, no greater than the Initiator's.
    pub credit: Credit,
    /// Buffer compression: only if both said `Y`.
    pub compression: bool,
    /// Restart: only if both said `Y`.
    pub restart: bool,
    /// Whether we may send files in this session.
    pub we_send: bool,
    /// Whether we may receive files in this session.
    pub we_receive: bool,
    /// Secure authentication (SSIDAUTH): both said `Y`, and SECD, AUCH and AURP were
    /// exchanged before the session was reported connected.
    pub secure_authentication: bool,
}

/// A refusal of the peer's SSID: the ESID reason and a text saying why.
pub(crate) struct Refusal {
    pub(crate) reason: EsidReason,
    pub(crate) text: String,
}

fn refuse(reason: EsidReason, text: impl Into<String>) -> Refusal {
    Refusal { reason, text: text.into() }
}

/// Our send/receive capability towards `partner`: what we can do and what it may do.
pub(crate) fn our_mode(config: &Config, partner: &Partner) -> SendReceive {
    let send = config.send_receive.can_send() && partner.directions.can_receive();
    let receive = config.send_receive.can_receive() && partner.directions.can_send();
    match (send, receive) {
        (true, false) => SendReceive::SendOnly,
        (false, true) => SendReceive::ReceiveOnly,
        _ => SendReceive::Both,
    }
}

/// The SSID we send to `partner`, offering `level`, `buffer_size`, `credit`; SSIDAUTH as
/// the partner is configured (the layouts before 2.0 have no SSIDAUTH).
pub(crate) fn our_ssid(
    config: &Config,
    partner: &Partner,
    level: ProtocolLevel,
    buffer_size: BufferSize,
    credit: Credit,
    compression: bool,
    restart: bool,
) -> Ssid {
    Ssid {
        level,
        code: config.odette_id,
        password: partner.our_password,
        buffer_size,
        send_receive: our_mode(config, partner),
        compression,
        restart,
        special_logic: false,
        credit,
        secure_authentication: partner.secure_authentication && level.has_security(),
        user_data: UserData::EMPTY,
    }
}

/// What we offer a partner: our settings, lowered by the partner's own limits.
pub(crate) fn offer(config: &Config, partner: &Partner) -> (BufferSize, Credit) {
    let buffer = partner.buffer_size.map_or(config.buffer_size, |b| b.min(config.buffer_size));
    let credit = partner.credit.map_or(config.credit, |c| c.min(config.credit));
    (buffer, credit)
}

/// Checks the peer's identification and password against the partner table.
pub(crate) fn identify<'c>(
    config: &'c Config,
    code: &OdetteId,
    password: &Password,
) -> Result<&'c Partner, Refusal> {
    let partner = config.partner(code).ok_or_else(|| {
        refuse(EsidReason::USER_CODE_NOT_KNOWN, format!("{code} is not a known partner"))
    })?;
    if &partner.password != password {
        return Err(refuse(EsidReason::INVALID_PASSWORD, format!("wrong password for {code}")));
    }
    Ok(partner)
}

/// The Responder's side: from the Initiator's SSID, what we agree and the SSID we answer.
pub(crate) fn as_responder(
    config: &Config,
    partner: &Partner,
    theirs: &Ssid,
) -> Result<(Negotiated, Ssid), Refusal> {
    if theirs.secure_authentication != partner.secure_authentication {
        // §9.8 G, !P10.
        let (asked, configured) = match theirs.secure_authentication {
            true => ("Y", "not configured"),
            false => ("N", "required"),
        };
        return Err(refuse(
            EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE,
            format!(
                "SSIDAUTH {asked}, but secure authentication is {configured} for {}",
                partner.odette_id
            ),
        ));
    }
    if theirs.level.value() == 0 {
        return Err(refuse(EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE, "protocol level 0"));
    }
    let mine = our_mode(config, partner);
    if !mine.compatible(theirs.send_receive) {
        return Err(refuse(
            EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE,
            format!("send/receive modes {:?} and {:?} do not fit", theirs.send_receive, mine),
        ));
    }
    let (buffer, credit) = offer(config, partner);
    let level = config.level.negotiate(theirs.level);
    let buffer_size = buffer.min(theirs.buffer_size);
    let credit = credit.min(theirs.credit);
    let compression = config.compression && theirs.compression;
    let restart = config.restart && theirs.restart;
    let negotiated = Negotiated {
        level,
        buffer_size,
        credit,
        compression,
        restart,
        we_send: mine.can_send() && theirs.send_receive.can_receive(),
        we_receive: mine.can_receive() && theirs.send_receive.can_send(),
        secure_authentication: partner.secure_authentication,
    };
    let answer = our_ssid(config, partner, level, buffer_size, credit, compression, restart);
    Ok((negotiated, answer))
}

/// The Initiator's side: checks the Responder's answer against what we offered.
pub(crate) fn as_initiator(
    partner: &Partner,
    offered: &Ssid,
    theirs: &Ssid,
) -> Result<Negotiated, Refusal> {
    if theirs.code != partner.odette_id {
        return Err(refuse(
            EsidReason::USER_CODE_NOT_KNOWN,
            format!("expected {} but {} answered", partner.odette_id, theirs.code),
        ));
    }
    if theirs.password != partner.password {
        return Err(refuse(
            EsidReason::INVALID_PASSWORD,
            format!("wrong password from {}", theirs.code),
        ));
    }
    if theirs.secure_authentication != offered.secure_authentication {
        return Err(refuse(
            EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE,
            "SSIDAUTH differs",
        ));
    }
    let incompatible = |what: String| refuse(EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE, what);
    if theirs.level > offered.level || theirs.level.value() == 0 {
        return Err(incompatible(format!(
            "answered level {} to our {}",
            theirs.level, offered.level
        )));
    }
    if theirs.buffer_size > offered.buffer_size {
        return Err(incompatible(format!(
            "answered SSIDSDEB {} above our {}",
            theirs.buffer_size, offered.buffer_size
        )));
    }
    if theirs.credit > offered.credit {
        return Err(incompatible(format!(
            "answered SSIDCRED {} above our {}",
            theirs.credit, offered.credit
        )));
    }
    if !offered.send_receive.compatible(theirs.send_receive) {
        return Err(incompatible(format!(
            "send/receive modes {:?} and {:?} do not fit",
            offered.send_receive, theirs.send_receive
        )));
    }
    Ok(Negotiated {
        level: theirs.level,
        buffer_size: theirs.buffer_size,
        credit: theirs.credit,
        compression: offered.compression && theirs.compression,
        restart: offered.restart && theirs.restart,
        we_send: offered.send_receive.can_send() && theirs.send_receive.can_receive(),
        we_receive: offered.send_receive.can_receive() && theirs.send_receive.can_send(),
        secure_authentication: offered.secure_authentication,
    })
}
